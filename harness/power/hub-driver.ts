// A switchable USB hub: power a port on or off, and read what each port says.
import { sleep } from '../common/time.ts';

export interface HubPortStatus {
  port: number;
  powered: boolean;
  /** Whether a device is attached; undefined when the hub does not say (cambrionix.ts). */
  connected?: boolean;
  /** What the hub reports attached, e.g. "1d6b:0104 dextbench Loopback ECHO0001". */
  device?: string;
}

export interface HubDriver {
  readonly id: string;
  setPort(port: number, on: boolean): Promise<void>;
  /** Off, wait `offMs`, on. */
  cyclePort(port: number, offMs: number): Promise<void>;
  status(): Promise<HubPortStatus[]>;
  /** Lets go of what the driver holds open (a serial port); a later operation opens it again. */
  close(): Promise<void>;
}

export class HubError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubError';
  }
}

/** cyclePort for a hub without a cycle command of its own: off, wait `offMs`, on. */
export function cycleBySwitching(setPort: HubDriver['setPort']): HubDriver['cyclePort'] {
  return async (port, offMs) => {
    await setPort(port, false);
    await sleep(offMs);
    await setPort(port, true);
  };
}
