// Which dext process served each provider (the USB device nub its service sits on) when the
// scenario first saw it. expect.no_crash compares that with what serves the provider at its end:
// on a provider that is still there, another pid, or a channel answering with another instance
// id, means the dext was relaunched. Filled by expect.matched, by channel sessions as they open
// (GetInfo's instance id) and by expect.no_crash itself.
import type { ChannelClient } from '../../channel/index.ts';
import type { ServingDext, StepContext } from '../context.ts';

const INFO_TIMEOUT_MS = 5_000;

/** Records what serves `provider`, unless the scenario saw it served before: the first sighting is the reference. */
export function noteServingDext(ctx: StepContext, provider: bigint, seen: ServingDext): void {
  if (!ctx.servingDexts.has(provider)) ctx.servingDexts.set(provider, { ...seen });
}

/**
 * A new channel session: the instance id of the dext behind it, for the provider whose first
 * sighting is that very service. A dext that cannot answer GetInfo here leaves it unrecorded;
 * the session's own calls report what is wrong with it.
 */
export async function noteChannelInstance(ctx: StepContext, client: ChannelClient): Promise<void> {
  const record = [...ctx.servingDexts.values()].find((r) => r.serviceId === client.bridge.registryId && r.instanceId === undefined);
  if (!record) return;
  const instanceId = await currentInstanceId(client);
  if (instanceId !== undefined) record.instanceId = instanceId;
}

/** GetInfo's instance id through an open session now, or undefined when the session cannot answer. */
export async function currentInstanceId(client: ChannelClient): Promise<bigint | undefined> {
  const info = await client.call('getInfo', {}, { timeoutMs: INFO_TIMEOUT_MS }).catch(() => undefined);
  return typeof info?.['instanceId'] === 'bigint' ? info['instanceId'] : undefined;
}
