// A small rig definition as the loader would resolve it: one hub, the echo device on port 2.
import type { DeviceProfile, RigDefinition } from '../../../harness/rig/types.ts';

export const ECHO_PROFILE: DeviceProfile = {
  file: '/repo/devices/echo.yaml',
  name: 'echo',
  usb: { vendorId: 0x1d6b, productId: 0x0104, product: 'Loopback', manufacturer: 'dextbench', serial: 'ECHO0001', speed: 'high' },
  interfaces: [{ number: 0, class: 0xff, endpoints: [{ address: 0x81, type: 'bulk', maxPacketSize: 512 }, { address: 0x01, type: 'bulk', maxPacketSize: 512 }] }],
  driver: { bundle: 'com.example.echo.driver', userClass: 'EchoDriver', provider: 'IOUSBHostDevice' },
  emulation: { sim: { model: 'loopback' } },
};

export function simRig(overrides: Partial<RigDefinition> = {}): RigDefinition {
  return {
    file: '/repo/rigs/test.yaml',
    name: 'test',
    host: {
      kind: 'sim',
      sim: {
        sip: 'disabled', developerMode: false, teamId: 'DXTBNCH001',
        macos: { productName: 'macOS', productVersion: '15.5', buildVersion: '24F74' },
        approvedTeams: [],
        approvedExtensions: { DXTBNCH001: ['com.example.echo.driver'] },
      },
    },
    signing: { identity: '-' },
    activator: { command: ['dextbench-activator'] },
    bridge: { command: ['dextbench-bridge'] },
    privileged: { sudo: false },
    hubs: [{ id: 'hub1', driver: 'uhubctl', location: '1-1', ports: 4 }],
    devices: [{ role: 'echo', profile: ECHO_PROFILE, port: { hub: 'hub1', port: 2 } }],
    extensions: {},
    vars: {},
    reservation: { ttlMs: 60_000, waitMs: 60_000 },
    ...overrides,
  };
}
