// Which extensions a scenario's unified log follows: those it declares, the rig's extensions its
// steps name, and the drivers of the devices it uses (with their service classes, which the
// kernel's `DK:` lines name instead of the bundle). The rig's other bundles are named too, so the
// predicate can leave out lines about them.
import type { LogScope } from '../host/tools/log.ts';
import type { RigDefinition } from '../rig/types.ts';
import { DeferredStepArgs, type Scenario } from '../scenario/index.ts';

export function scenarioLogScope(scenario: Scenario, rig: Pick<RigDefinition, 'extensions' | 'devices'>): LogScope {
  const classes = new Map<string, Set<string>>();
  const add = (bundle: string, userClass?: string) => {
    const known = classes.get(bundle) ?? new Set<string>();
    if (userClass) known.add(userClass);
    classes.set(bundle, known);
  };
  for (const decl of Object.values(scenario.uses.extensions)) add(decl.bundle);
  const named = new Set<string>();
  for (const step of [...scenario.setup, ...scenario.steps, ...scenario.cleanup]) {
    for (const key of ['extension', 'bundle']) {
      const value = argument(step.args, key);
      if (value !== undefined) named.add(value);
    }
  }
  for (const [name, decl] of Object.entries(rig.extensions)) {
    if (named.has(name) || named.has(decl.bundle)) add(decl.bundle);
  }
  for (const role of scenario.uses.devices) {
    const driver = rig.devices.find((d) => d.role === role)?.profile.driver;
    if (driver) add(driver.bundle, driver.userClass);
  }
  const rigBundles = [...Object.values(rig.extensions).map((d) => d.bundle), ...rig.devices.flatMap((d) => d.profile.driver?.bundle ?? [])];
  return {
    targets: [...classes].map(([bundle, userClasses]) => (userClasses.size ? { bundle, userClasses: [...userClasses] } : { bundle })),
    others: [...new Set(rigBundles.filter((b) => !classes.has(b)))],
  };
}

/**
 * A step's `extension` or `bundle` argument: the way extension steps name what they act on
 * (`sysext.activate: echo-driver` becomes `{ extension: echo-driver }`).
 */
function argument(args: unknown, key: string): string | undefined {
  const value = args instanceof DeferredStepArgs ? args.template : args;
  const found = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof found === 'string' ? found : undefined;
}
