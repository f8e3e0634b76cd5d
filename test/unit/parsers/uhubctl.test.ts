import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUhubctlStatus } from '../../../harness/host/parsers/index.ts';
import { fixture } from './fixture.ts';

test('C.1 transcript: USB 2.00 ganged hub, a connected device and an empty powered port', () => {
  assert.deepEqual(parseUhubctlStatus(fixture('uhubctl-C1.txt')), [
    {
      phase: 'current',
      location: '2',
      description: '1d6b:0002 Linux 6.6.51+rpt-rpi-v8 xhci-hcd xHCI Host Controller 0000:01:00.0',
      usb: '2.00',
      ports: 4,
      powerSwitching: 'ganged',
      portStatus: [
        { port: 1, statusBits: 0x0503, flags: ['power', 'highspeed', 'enable', 'connect'], powered: true, connected: true, device: '1a86:7523 USB Serial' },
        { port: 2, statusBits: 0x0100, flags: ['power'], powered: true, connected: false },
      ],
    },
  ]);
});

test('USB3 action: power bit 0x0200 on the USB3 hub, 0x0100 on its USB2 twin; Current and New blocks', () => {
  const hubs = parseUhubctlStatus(fixture('uhubctl-built-usb3-action.txt'));
  assert.deepEqual(hubs.map((h) => [h.phase, h.location, h.usb, h.ports, h.powerSwitching, h.description]), [
    ['current', '1-1', '3.00', 4, 'ppps', '2109:0817 VIA Labs, Inc. USB3.0 Hub'],
    ['new', '1-1', '3.00', 4, 'ppps', '2109:0817 VIA Labs, Inc. USB3.0 Hub'],
    ['current', '1-1', '2.10', 4, 'ppps', '2109:2817 VIA Labs, Inc. USB2.0 Hub'],
  ]);
  const [usb3, usb3After, usb2] = hubs;
  assert.deepEqual(usb3!.portStatus.map((p) => [p.port, p.statusBits, p.powered, p.connected, p.device]), [
    [1, 0x02a0, true, false, undefined],
    [2, 0x0203, true, true, '0781:5581 SanDisk Ultra 4C530001'],
    [3, 0x0080, false, false, undefined],
    [4, 0x02a0, true, false, undefined],
  ]);
  assert.deepEqual(usb3!.portStatus[1]!.flags, ['power', '5gbps', 'U0', 'enable', 'connect']);
  assert.deepEqual(usb3After!.portStatus, [{ port: 2, statusBits: 0x00a0, flags: ['5gbps', 'Rx.Detect'], powered: false, connected: false }]);
  // 0x0200 is LOW_SPEED on a USB2 hub, not power: the USB version decides which bit is read.
  assert.deepEqual(usb2!.portStatus.map((p) => [p.port, p.powered, p.connected, p.flags.join(' ')]), [
    [1, true, false, 'power'],
    [2, false, false, 'off'],
    [3, true, true, 'power highspeed enable connect'],
    [4, true, false, 'power'],
  ]);
  assert.equal(usb2!.portStatus[2]!.device, '1d6b:0104 dextbench Loopback ECHO0001');
});

test('a header without USB version/ports/mode (hub info unreadable): powered decided from the flags', () => {
  const text = 'Current status for hub 1-1.4 [0bda:5411 Generic 4-Port USB 2.0 Hub]\n  Port 1: 0000 off\n  Port 2: 0303 power lowspeed enable connect [046d:c077 Logitech USB Optical Mouse]\n';
  assert.deepEqual(parseUhubctlStatus(text), [
    {
      phase: 'current',
      location: '1-1.4',
      description: '0bda:5411 Generic 4-Port USB 2.0 Hub',
      portStatus: [
        { port: 1, statusBits: 0, flags: ['off'], powered: false, connected: false },
        { port: 2, statusBits: 0x0303, flags: ['power', 'lowspeed', 'enable', 'connect'], powered: true, connected: true, device: '046d:c077 Logitech USB Optical Mouse' },
      ],
    },
  ]);
});

test('no hubs: error text gives an empty list', () => {
  assert.deepEqual(parseUhubctlStatus('No compatible devices detected!\nRun with -h to get usage info.\n'), []);
});
