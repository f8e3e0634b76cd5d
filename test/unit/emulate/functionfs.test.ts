// harness/emulate/functionfs.ts: the blobs ep0 takes (byte for byte against bytes worked out by
// hand from <linux/usb/functionfs.h>, USB 2.0 ch. 9 and HID 1.11), ep0's events, and the mount's
// decisions on real files through a LocalExec. The server on a real kernel is the QEMU lane's
// (test/usb/ykush.test.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  encodeDescriptor, encodeDescriptors, encodeStrings, explainMountFailure, FunctionFsError, functionFsEndpoints, functionFsThreadpoolSize, mountFunctionFs,
  parseEvent, serveFunctionFs, type FunctionDescriptors,
} from '../../../harness/emulate/index.ts';
import { LocalExec } from '../../../harness/host/exec.ts';

const bytes = (hex: string): Uint8Array => Uint8Array.from((hex.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
const hexOf = (data: Uint8Array): string => [...data].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** A HID interface with a 27-byte report descriptor, interrupt IN 0x81 and OUT 0x02 of 64 bytes. */
const hid = (interval: number): FunctionDescriptors['fs'] => [
  { type: 'interface', number: 0, endpoints: 2, class: 3, string: 1 },
  { type: 'hid', reportLength: 27 },
  { type: 'endpoint', address: 0x81, transfer: 'interrupt', maxPacketSize: 64, interval },
  { type: 'endpoint', address: 0x02, transfer: 'interrupt', maxPacketSize: 64, interval },
];

test('descriptors blob v2, full and high speed: magic 3, length 84, flags FS|HS, counts 4 and 4, then each speed\'s descriptors', () => {
  const expected = bytes(`
    03000000 54000000 03000000 04000000 04000000
    09 04 00 00 02 03 00 00 01   09 21 11 01 00 01 22 1b 00   07 05 81 03 40 00 01   07 05 02 03 40 00 01
    09 04 00 00 02 03 00 00 01   09 21 11 01 00 01 22 1b 00   07 05 81 03 40 00 04   07 05 02 03 40 00 04`);
  assert.equal(hexOf(encodeDescriptors({ fs: hid(1), hs: hid(4) })), hexOf(expected));
});

test('with a SuperSpeed list: flag 4 too, a third count, endpoint companions after the endpoints', () => {
  const bulk = (size: number, ss: boolean): FunctionDescriptors['fs'] => [
    { type: 'interface', number: 0, endpoints: 1, class: 0xff },
    { type: 'endpoint', address: 0x81, transfer: 'bulk', maxPacketSize: size },
    ...(ss ? [{ type: 'ss-companion', maxBurst: 3 } as const] : []),
  ];
  const blob = encodeDescriptors({ fs: bulk(64, false), hs: bulk(512, false), ss: bulk(1024, true) });
  assert.equal(hexOf(blob), hexOf(bytes(`
    03000000 4e000000 07000000 02000000 02000000 03000000
    09 04 00 00 01 ff 00 00 00   07 05 81 02 40 00 00
    09 04 00 00 01 ff 00 00 00   07 05 81 02 00 02 00
    09 04 00 00 01 ff 00 00 00   07 05 81 02 00 04 00   06 30 03 00 00 00`)));
});

test('single descriptors: a raw class descriptor gets its length and type; a bad field is one line', () => {
  assert.equal(hexOf(encodeDescriptor({ type: 'raw', descriptorType: 0x24, payload: Uint8Array.of(0x00, 0x10, 0x01) })), '05 24 00 10 01');
  assert.throws(() => encodeDescriptor({ type: 'endpoint', address: 0x80, transfer: 'bulk', maxPacketSize: 64 }), { message: 'endpoint address 0x80: use 1..15, with 0x80 for IN' });
  assert.throws(() => encodeDescriptor({ type: 'endpoint', address: 0x01, transfer: 'bulk', maxPacketSize: 70_000 }), { message: 'wMaxPacketSize 70000 does not fit 16 bits' });
  assert.throws(() => encodeDescriptor({ type: 'interface', number: 256, endpoints: 0, class: 0 }), { message: 'interface number 256 is not a byte (0..255)' });
});

test('the blob is refused, in one line, without both speeds or with different endpoints per speed', () => {
  assert.throws(() => encodeDescriptors({ fs: hid(1), hs: [] }), { message: 'FunctionFS descriptors need a full-speed (fs) and a high-speed (hs) list' });
  assert.throws(() => encodeDescriptors({ fs: hid(1), hs: hid(4).slice(0, 3) }),
    { message: 'the hs descriptors declare endpoints [0x81], fs declares [0x81, 0x02]: every speed needs the same endpoints in the same order' });
});

test('strings blob: magic 2, length, string and language counts, then each language\'s code and NUL-terminated UTF-8 strings', () => {
  assert.equal(hexOf(encodeStrings(new Map([[0x0409, ['YKUSH HID']]]))), hexOf(bytes(`
    02000000 1c000000 01000000 01000000   09 04   59 4b 55 53 48 20 48 49 44 00`)));
  assert.equal(hexOf(encodeStrings(new Map([[0x0409, ['a', 'bc']], [0x0407, ['ä', 'z']]]))), hexOf(bytes(`
    02000000 1e000000 02000000 02000000   09 04 61 00 62 63 00   07 04 c3 a4 00 7a 00`)));
  assert.equal(hexOf(encodeStrings(new Map())), hexOf(bytes('02000000 10000000 00000000 00000000')));
  assert.throws(() => encodeStrings(new Map([[0x0409, ['a', 'b']], [0x0407, ['x']]])),
    { message: 'strings: language 0x0407 has 1, 0x0409 has 2: every language needs the same number' });
  assert.throws(() => encodeStrings(new Map([[0x0409, ['a\0b']]])), { message: 'strings: "a\\u0000b" contains a NUL, which ends a FunctionFS string' });
});

test('events: 12 bytes, the setup packet first and the type at byte 8; a SETUP decoded field by field', () => {
  // GET_DESCRIPTOR(Report) to interface 0: 81 06 0022 0000 4000, type 4 (SETUP), 3 bytes of padding.
  assert.deepEqual(parseEvent(bytes('81 06 00 22 00 00 40 00 04 00 00 00')), {
    type: 'setup',
    setup: { requestType: 0x81, request: 0x06, value: 0x2200, index: 0, length: 64, direction: 'in', kind: 'standard', recipient: 'interface' },
  });
  // SET_IDLE: class, OUT, interface.
  assert.deepEqual(parseEvent(bytes('21 0a 00 00 01 00 00 00 04 00 00 00')).setup, {
    requestType: 0x21, request: 0x0a, value: 0, index: 1, length: 0, direction: 'out', kind: 'class', recipient: 'interface',
  });
  assert.deepEqual([0, 1, 2, 3, 5, 6].map((type) => parseEvent(bytes(`0000000000000000 0${type} 000000`))),
    ['bind', 'unbind', 'enable', 'disable', 'suspend', 'resume'].map((type) => ({ type })));
  assert.throws(() => parseEvent(bytes('0000000000000000 07 000000')), { message: 'ep0 gave an event of unknown type 7 (this server knows 0..6)' });
  assert.throws(() => parseEvent(bytes('00000000')), { message: 'ep0 gave 4 bytes; an event is 12' });
});

test('endpoint files are numbered in the order the fs descriptors declare them; the threadpool has a thread per file and two spare', () => {
  assert.deepEqual(functionFsEndpoints({ fs: hid(1), hs: hid(4) }), [
    { index: 1, address: 0x81, direction: 'in', transfer: 'interrupt', maxPacketSize: 64 },
    { index: 2, address: 0x02, direction: 'out', transfer: 'interrupt', maxPacketSize: 64 },
  ]);
  assert.equal(functionFsThreadpoolSize(2), 5);
});

test('serveFunctionFs refuses, before touching the folder, a process whose threadpool is too small; then a folder without ep0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffs-'));
  const options = { descriptors: { fs: hid(1), hs: hid(4) }, strings: new Map([[0x0409, ['x']]]), handler: { setup: () => 'stall' as const } };
  const saved = process.env.UV_THREADPOOL_SIZE;
  try {
    process.env.UV_THREADPOOL_SIZE = '4';
    await assert.rejects(serveFunctionFs(dir, options), {
      message: `serving ${dir} needs 5 libuv threads (ep0 and 2 endpoint files may each park one), this process has 4: start it with UV_THREADPOOL_SIZE=5 in its environment`,
    });
    process.env.UV_THREADPOOL_SIZE = '5';
    await assert.rejects(serveFunctionFs(dir, options), { message: `${dir} has no ep0: it is not a mounted FunctionFS (mountFunctionFs first)` });
  } finally {
    if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = saved;
  }
});

/** A mount table and filesystem list of our own, read by the real `cat` through a LocalExec. */
function tables(mounts: string, filesystems = 'nodev\tfunctionfs\nnodev\tconfigfs\n') {
  const dir = mkdtempSync(join(tmpdir(), 'ffs-mounts-'));
  writeFileSync(join(dir, 'mounts'), mounts);
  writeFileSync(join(dir, 'filesystems'), filesystems);
  return { mountsFile: join(dir, 'mounts'), filesystemsFile: join(dir, 'filesystems'), scratch: join(dir, 'ffs', 'ykush') };
}

test('mountFunctionFs: mounted there already is done, with no command that changes anything (the folder is not even made)', async () => {
  const t = tables('sysfs /sys sysfs rw 0 0\nykush /tmp/x\\040y/ffs functionfs rw,relatime 0 0\n');
  await mountFunctionFs(new LocalExec(), 'ykush', '/tmp/x y/ffs', t);
  const u = tables(`ykush ${'/d'} functionfs rw 0 0\n`);
  await mountFunctionFs(new LocalExec(), 'ykush', '/d', u);
  assert.equal(existsSync('/tmp/x y/ffs'), false);
});

test('mountFunctionFs refuses in one line: the instance mounted elsewhere, another filesystem on the folder, a kernel without FunctionFS', async () => {
  const exec = new LocalExec();
  await assert.rejects(mountFunctionFs(exec, 'ykush', '/dev/ffs-b', tables('ykush /dev/ffs-a functionfs rw 0 0\n')),
    { message: 'FunctionFS ykush on local: already mounted on /dev/ffs-a (an instance mounts once): use that folder, or unmount it first' });
  await assert.rejects(mountFunctionFs(exec, 'ykush', '/dev/ffs-a', tables('tmpfs /dev/ffs-a tmpfs rw 0 0\n')),
    { message: 'FunctionFS ykush on local: /dev/ffs-a already has a tmpfs (tmpfs) mounted on it: unmount it, or pick another folder' });
  await assert.rejects(mountFunctionFs(exec, 'adb', '/dev/ffs-a', tables('mtp /dev/ffs-a functionfs rw 0 0\n')),
    { message: 'FunctionFS adb on local: /dev/ffs-a already has FunctionFS mtp mounted on it: unmount it, or pick another folder' });
  const t = tables('', 'nodev\tsysfs\nnodev\tconfigfs\n');
  await assert.rejects(mountFunctionFs(exec, 'ykush', t.scratch, t), (error: FunctionFsError) => {
    assert.equal(error.message, `FunctionFS ykush on local: the kernel has no FunctionFS (functionfs is not in ${t.filesystemsFile}): load it with \`modprobe usb_f_fs\` (or build the kernel with CONFIG_USB_CONFIGFS_F_FS)`);
    assert.equal(error.reason, 'mount');
    return true;
  });
  assert.equal(existsSync(t.scratch), false, 'the folder was made before the refusal');
});

test('mount failures in the board\'s terms (util-linux mount\'s wording, as the QEMU lane showed it)', () => {
  assert.equal(explainMountFailure('nosuch', 'mount: /dev/ffs/nosuch: special device nosuch does not exist'),
    'mount: /dev/ffs/nosuch: special device nosuch does not exist: no FunctionFS function named nosuch; create functions/ffs.nosuch in a configfs gadget first (a profile\'s emulate.functions: [{ ffs: { name: nosuch } }])');
  assert.equal(explainMountFailure('ykush', 'mount: /d: must be superuser to use mount'), 'mount: /d: must be superuser to use mount: mounting FunctionFS needs root on the board (run as root, or through sudo)');
  assert.equal(explainMountFailure('ykush', 'mount: /d: ykush already mounted or mount point busy'), 'mount: /d: ykush already mounted or mount point busy: instance ykush is mounted elsewhere already');
  assert.equal(explainMountFailure('ykush', 'mount: /d: unknown filesystem type \'functionfs\''), 'mount: /d: unknown filesystem type \'functionfs\': load usb_f_fs with `modprobe usb_f_fs`');
});
