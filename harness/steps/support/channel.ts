// One channel session per device role per scenario: opened on first use through the rig's bridge
// command (so it works locally and over ssh), closed by the cleanup stack. The bridge opens the
// registry id of this device's own service, so a rig with several devices on one driver reaches
// each of them.
import { NoMatchingServiceError, openBridge, type ChannelClient } from '../../channel/index.ts';
import { describeDevice, describeObservation, observeDevice, rigDevice, servicesOf } from '../../rig/device-state.ts';
import type { RigDevice } from '../../rig/types.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';
import { noteChannelInstance } from './serving-dexts.ts';

const OPEN_TIMEOUT_MS = 10_000;

export async function channelFor(ctx: StepContext, role: string): Promise<ChannelClient> {
  return ctx.channels.get(role) ?? openChannel(ctx, role, OPEN_TIMEOUT_MS);
}

export async function openChannel(ctx: StepContext, role: string, timeoutMs: number): Promise<ChannelClient> {
  const device = rigDevice(ctx.rig, role);
  const userClass = device.profile.driver?.userClass;
  if (!userClass) throw new StepFailure(`device ${role}: its profile has no driver.userClass to open a channel to`, { failureClass: 'configuration' });
  const client = await openBridge(ctx.rig.exec, {
    match: { IOUserClass: userClass },
    registryId: await serviceToOpen(ctx, device, userClass),
    command: ctx.rig.definition.bridge.command,
    timeoutMs,
    codec: ctx.codecFor(device.profile.proto),
  });
  ctx.channels.set(role, client);
  ctx.timeline.record({ type: 'channel-open', device: role, registryId: client.bridge.registryId, transport: client.bridge.transport });
  // A terminated session is forgotten: the next step opens a new one (after a relaunch).
  void client.terminated.then((t) => {
    if (ctx.channels.get(role) === client) ctx.channels.delete(role);
    ctx.timeline.record({ type: 'channel-terminated', device: role, ioReturn: t.ioReturn, message: t.message });
  });
  ctx.cleanup.release(`close channel to ${role}`, () => closeChannel(ctx, role, client));
  await noteChannelInstance(ctx, client);
  return client;
}

/**
 * The registry id of the device's own `userClass` service, found below the device at its hub port
 * (device-state.ts). Looked up on every open rather than taken from expect.matched: a relaunched
 * dext's service has a new id. "Not there" is a ChannelError, which reconnect retries.
 */
async function serviceToOpen(ctx: StepContext, device: RigDevice, userClass: string): Promise<bigint> {
  const o = await observeDevice(ctx.rig, device);
  const services = servicesOf(o, userClass);
  if (services.length === 1) return services[0]!.registryId;
  if (services.length === 0) {
    throw new NoMatchingServiceError(`${describeDevice(device)} has no ${userClass} service to open a channel to: ${describeObservation(o)}`);
  }
  throw new NoMatchingServiceError(`${describeDevice(device)} has ${services.length} ${userClass} services ` +
    `(registry ids ${services.map((s) => s.registryId).join(', ')}); the channel opens one service per device`);
}

export async function closeChannel(ctx: StepContext, role: string, client: ChannelClient): Promise<void> {
  if (ctx.channels.get(role) === client) ctx.channels.delete(role);
  await client.close();
}
