// A rig's `driver: gadget` hub on a real Linux USB stack: in a QEMU guest (dummy_hcd) the rig's board
// is the guest itself (`board: local`, root, so sudo off), and connectRig's hub driver plugs the echo
// profile's gadget into the guest's own bus, where node-usb sees it come and go. One boot
// (test/usb/guest/gadget-hub.ts does the work and reports; these tests judge it).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadRig } from '../../harness/scenario/index.ts';
import { lane, QEMU_LANE } from '../support/lane.ts';
import { guestReport, runInGuest, type GuestResult } from '../support/qemu/guest.ts';
import { tempDir } from '../support/temp.ts';
import type { GadgetHubReport } from './guest/gadget-hub.ts';

const skip = lane('real USB in a QEMU guest (dummy_hcd, configfs gadgets)', QEMU_LANE);
const SCRIPT = 'test/usb/guest/gadget-hub.ts';
const repo = new URL('../..', import.meta.url).pathname;

describe('a gadget hub (board: local) through connectRig in the guest: plug, safe state and close on dummy_udc.0', { skip }, () => {
  let run: GuestResult;
  let report: GadgetHubReport;
  before(async () => {
    const file = join(tempDir('dextbench-gadget-hub-usb-'), 'rig.yaml');
    writeFileSync(file, [
      'name: guest',
      'host: local                   # the Mac\'s tools are never called here',
      'hubs: [{ id: pi, driver: gadget, board: local, sudo: false }]',
      `devices: { echo: { profile: ${join(repo, 'devices/echo.yaml')}, port: { hub: pi, port: 1 } } }`,
      '',
    ].join('\n'));
    const rig = loadRig(file, { env: {} });
    run = await runInGuest({ script: SCRIPT, args: [JSON.stringify(rig)], timeoutMs: 120_000, udev: true });
    report = guestReport<GadgetHubReport>(run, SCRIPT);
  });

  test('before the plug: port 1 off, the device on no bus', (t) => {
    const ms = (seen: GadgetHubReport['plugged']) => ('ms' in seen.wait ? `${seen.wait.ms} ms` : 'failed');
    t.diagnostic(`guest boot ${(run.bootMs / 1000).toFixed(1)} s, script ${(run.scriptMs / 1000).toFixed(1)} s; attach seen ${ms(report.plugged)}, detach ${ms(report.safe)} after the wait began`);
    assert.deepEqual(report.before, { status: [{ port: 1, powered: false, connected: false }], present: 0 });
  });

  test('port 1 on: node-usb sees the echo device attach (a hotplug event), UDC reads dummy_udc.0, status agrees', () => {
    const { plugged } = report;
    assert.ok('via' in plugged.wait, JSON.stringify(plugged.wait));
    assert.equal(plugged.wait.via, 'events');
    assert.equal(plugged.wait.serial, 'ECHO0001');
    assert.ok(plugged.wait.ms > 0, 'the device was there before the plug');
    assert.equal(plugged.udcFile, 'dummy_udc.0');
    assert.deepEqual(plugged.status, [{ port: 1, powered: true, connected: true, device: 'echo on dummy_udc.0' }]);
  });

  test('safe state: the device detaches (a hotplug event), UDC is empty, status agrees', () => {
    const { safe } = report;
    assert.ok('via' in safe.wait, JSON.stringify(safe.wait));
    assert.equal(safe.wait.via, 'events');
    assert.ok(safe.wait.ms > 0, 'the device was gone before the safe state');
    assert.equal(safe.udcFile, '');
    assert.deepEqual(safe.status, [{ port: 1, powered: false, connected: false }]);
  });

  test('close: the gadget this run built is removed from configfs, and the device stays gone', () => {
    assert.deepEqual(report.closed, { gadgetDir: false, present: 0 });
  });
});
