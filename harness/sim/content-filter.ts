// NE content filter configurations as NEFilterManager keeps them: one per filter provider bundle,
// saved by the activator's `filter enable|disable` (tools/activator.ts). Saving a configuration the
// Mac has not approved yet shows the "would like to filter network content" prompt, which nobody
// answers on a rig: approved are the providers of the sim config's `webContentFilter` or of an
// installed com.apple.webcontent-filter payload (profile-grants.ts), and any configuration saved
// before. Removing the profile that approved a filter removes its configuration (revokeFilters).
//
// For the NE model: filterConfiguration / enabledFilters are what it reads (plus
// runningExtension from extension-processes.ts to know whether the provider runs).
import type { Mac } from './mac.ts';
import { contentFilterApproved } from './profile-grants.ts';
import { NETWORK_EXTENSION_CATEGORY, type FilterConfiguration } from './state.ts';

/** The saved filter configuration of a provider, if any. */
export function filterConfiguration(mac: Mac, bundle: string): FilterConfiguration | undefined {
  return mac.state.filterConfigurations?.[bundle];
}

/** Provider bundle ids whose filter configuration is saved and enabled. */
export function enabledFilters(mac: Mac): string[] {
  return Object.entries(mac.state.filterConfigurations ?? {}).filter(([, c]) => c.enabled).map(([bundle]) => bundle);
}

export type FilterSave =
  | { saved: true }
  | { saved: false; error: 'configurationInvalid'; message: string }
  | { saved: false; needsApproval: true };

/** NEFilterManagerError raw values (contract §3). */
export const FILTER_ERRORS = {
  configurationInvalid: 1, configurationDisabled: 2, configurationStale: 3,
  configurationCannotBeRemoved: 4, configurationPermissionDenied: 5, configurationInternalError: 6,
} as const;

type FilterEnabledHook = (mac: Mac, bundle: string) => void;
const enabledHooks: FilterEnabledHook[] = [];

/** A model's hook, called when a save turns a provider's filter on (the NE model's startFilter). */
export function onFilterEnabled(hook: FilterEnabledHook): void {
  enabledHooks.push(hook);
}

/**
 * saveToPreferences with `enabled`. Enabling needs the provider's network extension activated
 * (an inference: the contract's model; real macOS may save and then fail to start the provider).
 * An unapproved save waits for the prompt until `waitMs` has passed or `signal` aborts.
 */
export async function saveFilter(
  mac: Mac, request: { bundle: string; name: string; enabled: boolean }, wait: (ms: number) => Promise<void>, waitMs: number,
): Promise<FilterSave> {
  const { bundle, name, enabled } = request;
  if (enabled && !mac.state.extensions.some((r) => r.bundle === bundle && r.category === NETWORK_EXTENSION_CATEGORY && r.state === 'activated enabled')) {
    return { saved: false, error: 'configurationInvalid', message: `no activated network extension ${bundle} provides the filter` };
  }
  const approved = filterConfiguration(mac, bundle) !== undefined || contentFilterApproved(mac, bundle);
  if (!approved) {
    await wait(waitMs);
    return { saved: false, needsApproval: true };
  }
  const wasEnabled = filterConfiguration(mac, bundle)?.enabled === true;
  mac.state.filterConfigurations = { ...mac.state.filterConfigurations, [bundle]: { name, enabled } };
  mac.settle();
  if (enabled && !wasEnabled) for (const hook of enabledHooks) hook(mac, bundle);
  return { saved: true };
}

/**
 * A profile was removed: a filter no profile or config approves any more loses its configuration,
 * so it is off and the next save asks again. Inference: macOS removes the filter configuration a
 * removed webcontent-filter profile installed; the reference does not say what happens to one the
 * app saved itself under that approval.
 */
export function revokeFilters(mac: Mac, providers: readonly string[]): void {
  const configurations = { ...mac.state.filterConfigurations };
  for (const provider of providers) if (!contentFilterApproved(mac, provider)) delete configurations[provider];
  mac.state.filterConfigurations = configurations;
}
