import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ioreg } from '../../../harness/host/tools/ioreg.ts';
import { FakeExec } from './fake-exec.ts';

// `ioreg -a -l -r -c IOUSBHostDevice`: an array of device dicts, children nested (§3.5/3.6 notes).
const DEVICES_PLIST = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<array>
	<dict>
		<key>IOObjectClass</key>
		<string>IOUSBHostDevice</string>
		<key>IORegistryEntryChildren</key>
		<array>
			<dict>
				<key>CFBundleIdentifier</key>
				<string>com.example.echo.driver</string>
				<key>IOObjectClass</key>
				<string>IOUserService</string>
				<key>IORegistryEntryID</key>
				<integer>4294969000</integer>
				<key>IORegistryEntryName</key>
				<string>EchoDriver</string>
				<key>IOUserClass</key>
				<string>EchoDriver</string>
				<key>IOUserServerName</key>
				<string>com.example.echo.driver</string>
			</dict>
		</array>
		<key>IORegistryEntryID</key>
		<integer>4294968999</integer>
		<key>IORegistryEntryName</key>
		<string>Loopback</string>
		<key>idProduct</key>
		<integer>260</integer>
		<key>idVendor</key>
		<integer>7531</integer>
		<key>kUSBProductString</key>
		<string>Loopback</string>
		<key>kUSBSerialNumberString</key>
		<string>ECHO0001</string>
		<key>locationID</key>
		<integer>17891328</integer>
		<key>sessionID</key>
		<integer>9007199254740993</integer>
	</dict>
</array>
</plist>
`;

test('usbDevices runs ioreg -a -l -r -c IOUSBHostDevice and keeps big integers exact', async () => {
  const exec = new FakeExec(() => ({ stdout: DEVICES_PLIST }));
  const devices = await ioreg(exec).usbDevices();
  assert.deepEqual(exec.argvs(), [['ioreg', '-a', '-l', '-r', '-c', 'IOUSBHostDevice']]);
  assert.equal(devices.length, 1);
  assert.equal(devices[0]!.sessionId, 9007199254740993n);
  assert.equal(devices[0]!.services[0]!.userClass, 'EchoDriver');
  assert.equal(devices[0]!.services[0]!.registryId, 4294969000n);
});

test('no match (empty output) is no entries; -n queries by name; userServers queries IOUserServer', async () => {
  const exec = new FakeExec(() => ({ stdout: '' }));
  const tool = ioreg(exec);
  assert.deepEqual(await tool.userServers(), []);
  assert.deepEqual((await tool.query({ name: 'EchoDriver' })).entries, []);
  assert.deepEqual(exec.argvs(), [['ioreg', '-a', '-l', '-r', '-c', 'IOUserServer'], ['ioreg', '-a', '-l', '-r', '-n', 'EchoDriver']]);
  await assert.rejects(tool.query({}), /exactly one of className or name/);
});

test('snapshotText is the IOUSB plane, uncut; failures carry the tool output in one line', async () => {
  const ok = new FakeExec(() => ({ stdout: '+-o Root  <class IORegistryEntry, id 0x100000100>\n' }));
  assert.match(await ioreg(ok).snapshotText(), /^\+-o Root/);
  assert.deepEqual(ok.argvs(), [['ioreg', '-p', 'IOUSB', '-l', '-w0']]);
  const bad = new FakeExec(() => ({ stderr: 'ioreg: bad plane\n', exitCode: 1 }));
  await assert.rejects(ioreg(bad).snapshotText(), { message: 'reading the IOUSB plane: ioreg -p IOUSB -l -w0 exited with 1: ioreg: bad plane' });
});
