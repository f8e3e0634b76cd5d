// One channel session per device role per scenario: opened on first use through the rig's bridge
// command (so it works locally and over ssh), closed by the cleanup stack.
import { openBridge, type ChannelClient } from '../../channel/index.ts';
import { rigDevice } from '../../rig/device-state.ts';
import type { StepContext } from '../context.ts';
import { StepFailure } from '../context.ts';

const OPEN_TIMEOUT_MS = 10_000;

export async function channelFor(ctx: StepContext, role: string): Promise<ChannelClient> {
  return ctx.channels.get(role) ?? openChannel(ctx, role, OPEN_TIMEOUT_MS);
}

export async function openChannel(ctx: StepContext, role: string, timeoutMs: number): Promise<ChannelClient> {
  const device = rigDevice(ctx.rig, role);
  const userClass = device.profile.driver?.userClass;
  if (!userClass) throw new StepFailure(`device ${role}: its profile has no driver.userClass to open a channel to`);
  const client = await openBridge(ctx.rig.exec, {
    match: { IOUserClass: userClass },
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
  ctx.cleanup.push(`close channel to ${role}`, () => closeChannel(ctx, role, client));
  return client;
}

export async function closeChannel(ctx: StepContext, role: string, client: ChannelClient): Promise<void> {
  if (ctx.channels.get(role) === client) ctx.channels.delete(role);
  await client.close();
}
