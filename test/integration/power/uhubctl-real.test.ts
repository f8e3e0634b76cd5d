// The uhubctl driver against Debian's real uhubctl on this machine, through LocalExec. No smart hub
// is attached here (a CI machine has no USB hubs), so uhubctl prints "No compatible devices
// detected at location …!" and exits 1: every operation must fail with one line that says so and
// how to find the hub's location, not with uhubctl's raw output or a stack.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import { uhubctlDriver } from '../../../harness/power/index.ts';
import { lane, NEEDS } from '../../support/lane.ts';

const skip = lane('uhubctl (Debian)', [NEEDS.uhubctl]);
// A location no machine running the tests has: bus 250, three hops down.
const LOCATION = '250-15.15';
const NO_HUB = `hub hub1 (uhubctl location ${LOCATION} on local): uhubctl found no compatible hub at location ${LOCATION}; ` +
  'run `uhubctl` with no arguments on the host to list the smart hubs and their locations, then fix the rig\'s hubs[].location';

describe('uhubctl, the real binary, with no hub attached', { skip }, () => {
  // Debian installs it in /usr/sbin, which a non-root PATH may lack.
  const exec = new LocalExec({ pathPrefix: ['/usr/sbin'] });

  test('status, on, off and cycle each fail with one line naming the location and the fix', { timeout: 30_000 }, async () => {
    const hub = uhubctlDriver(exec, { id: 'hub1', driver: 'uhubctl', location: LOCATION, ports: 4 }, { timeoutMs: 10_000 });
    for (const operation of [() => hub.status(), () => hub.setPort(2, true), () => hub.setPort(2, false), () => hub.cyclePort(2, 10)]) {
      await assert.rejects(operation(), (error: Error) => {
        assert.equal(error.name, 'HubError');
        assert.equal(error.message, NO_HUB);
        return true;
      });
    }
  });
});
