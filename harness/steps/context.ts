// What a step gets to work with. The engine builds it; steps only use these interfaces, so they
// never know Playwright, the simulator, or each other.
import type { ChannelClient, ChannelCodec } from '../channel/index.ts';
import type { FailureClass } from '../common/failure-class.ts';
import type { RigSession } from '../rig/connect.ts';
import type { ExtensionDecl } from '../rig/types.ts';
import type { Scenario } from '../scenario/index.ts';

/** One event on the scenario's timeline (written as JSON lines). */
export type TimelineEvent = { type: string } & Record<string, unknown>;

export interface Timeline {
  /** Callable unbound: `setDevicePower(rig, device, on, ctx.timeline.record)`. */
  readonly record: (event: TimelineEvent) => void;
}

/** Teardown actions run last-in first-out, always: on success, failure and timeout. */
export interface CleanupStack {
  /** Undoes a change to the rig (deactivate, unplug, remove a file). */
  push(title: string, action: () => Promise<void>): void;
  /**
   * Lets go of something the harness itself holds open (a stream, a process, a handle, a
   * connection): it also runs when a failure holds the rig (--hold), where pushed actions never run.
   */
  release(title: string, action: () => Promise<void>): void;
}

export interface Measurement {
  name: string;
  value: number;
  unit?: string;
  min?: number;
  max?: number;
}

export interface StepContext {
  rig: RigSession;
  scenario: Scenario;
  /** Extensions the scenario may name: the rig's, overridden by the scenario's `uses.extensions`. */
  extensions: Record<string, ExtensionDecl>;
  timeline: Timeline;
  cleanup: CleanupStack;
  /** Results of earlier steps, by their `as:` name. */
  results: Map<string, unknown>;
  /** When the scenario began, on this machine's clock. */
  startedAt: Date;
  /** Deadline for this step in ms (its `timeout`, or the kind's default). */
  timeoutMs: number;
  measure(measurement: Measurement): void;
  /** Registry ids of providers each bundle was seen matched on during this scenario. */
  matchedProviders: Map<string, Set<bigint>>;
  /** Provider registry id → the dext that served it when this scenario first saw it (expect.no_crash). */
  servingDexts: Map<bigint, ServingDext>;
  /** Open channel sessions by device role (see support/channel.ts). */
  channels: Map<string, ChannelClient>;
  /** The channel codec with a device profile's own .proto loaded (cached per run). */
  codecFor(deviceProto: string | undefined): ChannelCodec;
  /** Fails (LeaseError) unless the run still holds the rig's lease: after a reboot, say, it must. */
  verifyLease(): Promise<void>;
}

/** The dext process serving a provider (the USB device nub its service sits on), as first seen. */
export interface ServingDext {
  bundle: string;
  /** The dext process: its IOUserServer's pid (null when ioreg shows none). */
  pid: number | null;
  /** Registry id of the dext's service on the provider: a relaunch creates a new one. */
  serviceId: bigint;
  userClass: string;
  /** GetInfo's instance_id, from the first channel session to that service. */
  instanceId?: bigint;
}

/**
 * A one-line failure meant for the person reading the report: no stack trace is shown for it.
 * Its class is `product` (an expect failed, a crash, a wrong value, an io error) unless the step
 * knows better: the Mac waiting for a person to approve is `infrastructure`, say.
 */
export class StepFailure extends Error {
  readonly failureClass: FailureClass;
  constructor(message: string, options: { failureClass?: FailureClass; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StepFailure';
    this.failureClass = options.failureClass ?? 'product';
  }
}
