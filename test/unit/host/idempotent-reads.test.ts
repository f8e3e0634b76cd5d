// Over ssh a dropped connection is retried once for reads only: every tool marks exactly its reads
// idempotent, and nothing that changes the Mac.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sipStatus } from '../../../harness/host/tools/csrutil.ts';
import { ioreg } from '../../../harness/host/tools/ioreg.ts';
import { killProcess } from '../../../harness/host/tools/kill.ts';
import { logShow } from '../../../harness/host/tools/log.ts';
import { macosVersion } from '../../../harness/host/tools/sw_vers.ts';
import { systemExtensionsCtl } from '../../../harness/host/tools/systemextensionsctl.ts';
import { uhubctlDriver } from '../../../harness/power/uhubctl.ts';
import { FakeExec } from './fake-exec.ts';

test('the macOS tools mark their reads idempotent, and never a command that changes the Mac', async () => {
  const exec = new FakeExec((argv) => {
    if (argv[0] === 'sw_vers') return { stdout: 'ProductName:\t\tmacOS\nProductVersion:\t\t15.5\nBuildVersion:\t\t24F74\n' };
    if (argv[0] === 'csrutil') return { stdout: 'System Integrity Protection status: disabled.\n' };
    if (argv.join(' ') === 'systemextensionsctl developer') return { stdout: 'Developer mode is off\n' };
    if (argv[0] === 'systemextensionsctl' && argv[1] === 'list') return { stdout: '0 extension(s)\n' };
    if (argv[0] === 'ioreg') return { stdout: '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><array/></plist>\n' };
    if (argv[0] === 'uhubctl') return { stdout: 'Current status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]\n  Port 1: 0100 power\n' };
    return {};
  });
  const sysext = systemExtensionsCtl(exec);
  const hub = uhubctlDriver(exec, { id: 'hub1', driver: 'uhubctl', location: '1-1' });
  await macosVersion(exec);
  await sipStatus(exec);
  await sysext.list();
  await sysext.developerMode();
  await ioreg(exec).query({ className: 'IOUSBHostDevice' });
  await ioreg(exec).snapshotText();
  await logShow(exec, { start: new Date() });
  await hub.status();
  const reads = exec.calls.map((c) => [c.argv.slice(0, 2).join(' '), c.idempotent]);
  assert.ok(reads.length >= 8);
  for (const [argv, idempotent] of reads) assert.equal(idempotent, true, `${argv} is a read`);

  const writes = new FakeExec(() => ({}));
  await systemExtensionsCtl(writes).setDeveloperMode(true).catch(() => undefined);
  await systemExtensionsCtl(writes).uninstall('ABCDE12345', 'com.example.echo.driver').catch(() => undefined);
  await uhubctlDriver(writes, { id: 'hub1', driver: 'uhubctl', location: '1-1' }).setPort(2, true).catch(() => undefined);
  await killProcess(writes, 123, 'KILL', { sudo: false }).catch(() => undefined);
  assert.ok(writes.calls.length >= 4);
  for (const call of writes.calls) {
    if (call.argv.includes('-a') || call.argv.includes('on') || call.argv.includes('uninstall') || call.argv[0] === 'kill') {
      assert.notEqual(call.idempotent, true, `${call.argv.join(' ')} changes the Mac`);
    }
  }
});
