// A Mac that reboots (or whose connection drops) ends `log stream` over ssh with ssh's 255; the
// stream starts again once the Mac answers, and the scenario keeps its log. Proven against the real
// sshd with a `log` that prints one ndjson line every 50 ms, and the shared master torn down under it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hostExec, type SshExec } from '../../../harness/host/ssh.ts';
import { UnifiedLogStream } from '../../../harness/host/tools/log.ts';
import { lane, SSH_LANE } from '../../support/lane.ts';
import { startSimSshd } from '../../support/sim-sshd.ts';
import { tempDir } from '../../support/temp.ts';

const skip = lane('ssh transport (OpenSSH server on 127.0.0.1)', SSH_LANE);

const TICKER = `#!/bin/sh
i=0
while true; do
  i=$((i + 1))
  printf '{"eventType":"logEvent","eventMessage":"tick %s","processImagePath":"/kernel","timestamp":"2025-08-09 10:11:55.521570-0400","traceID":1,"processID":0,"messageType":"Default","subsystem":"","category":"","threadID":1}\\n' "$i"
  sleep 0.05
done
`;

describe('log stream over ssh', { skip }, () => {
  test('a lost connection ends the stream (SIGPIPE, or 255 when the Mac is down); it resumes over a new connection and reports the gap', async () => {
    const sshd = await startSimSshd();
    const bin = join(tempDir('ssh-log'), 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'log'), TICKER, { mode: 0o755 });
    const exec = hostExec({ ssh: '127.0.0.1', port: sshd.port, identityFile: sshd.identityFile, options: [`UserKnownHostsFile=${sshd.knownHosts}`, 'SetEnv=SHLVL=1'] }, { pathPrefix: [bin] }) as SshExec;
    const stream = await UnifiedLogStream.start(exec, { startupMs: 200 });
    try {
      const gaps: string[] = [];
      stream.onGap((gap) => gaps.push(String(gap.ended.exitCode ?? gap.ended.signal)));
      await stream.waitFor((e) => e.eventMessage === 'tick 3', { timeoutMs: 10_000, description: 'tick 3' });
      const drop = spawnSync('ssh', ['-o', `ControlPath=${exec.controlPath}`, '-O', 'exit', '127.0.0.1'], { encoding: 'utf8' });
      assert.equal(drop.status, 0, drop.stderr);
      const seenBefore = stream.entries().length;
      // The new stream's ticker starts again at 1: its third line is "tick 3" once more.
      await stream.waitFor((e) => e.eventMessage === 'tick 3', { timeoutMs: 15_000, description: 'tick 3 from the resumed stream', includePast: false });
      // The Mac stayed up, so the wrapper saw its command killed by SIGPIPE (a reboot gives 255).
      assert.deepEqual(gaps, ['SIGPIPE']);
      assert.ok(stream.entries().length > seenBefore + 2);
    } finally {
      await stream.stop();
      await exec.close();
    }
  });
});
