// Device roles: a scenario's steps may name only the roles it declares in uses.devices, and a rig
// must have every role the scenario declares. A typo in either place is an error at its line,
// never a scenario that quietly does not run.
import { relative } from 'node:path';
import type { RigDevice } from '../rig/types.ts';
import { didYouMean, quote, type ValidationIssue } from './issues.ts';
import type { ScenarioStep } from './steps.ts';
import { DeferredStepArgs } from './variables.ts';
import { issueAt, type PathKey, type YamlFile } from './yaml.ts';
import { pathLabel } from './zod-issues.ts';

/** What a role check needs to know of a rig. */
export interface RigRoles {
  name: string;
  file: string;
  devices: readonly Pick<RigDevice, 'role'>[];
}

/**
 * The device a step names: the `device` argument every device step has (`plug: echo` becomes
 * `{ device: echo }`). Undefined for other steps, and for a device given by a result reference.
 */
export function stepDevice(step: ScenarioStep): string | undefined {
  const args = step.args instanceof DeferredStepArgs ? step.args.template : step.args;
  if (step.args instanceof DeferredStepArgs && typeof args === 'string') return undefined;
  const device = typeof args === 'object' && args !== null ? (args as Record<string, unknown>)['device'] : undefined;
  return typeof device === 'string' && !device.includes('${') ? device : undefined;
}

/** The rigs that have every role a scenario declares: the ones it runs on. */
export function rigsWithRoles<Rig extends RigRoles>(roles: readonly string[], rigs: readonly Rig[]): Rig[] {
  return rigs.filter((rig) => roles.every((role) => rig.devices.some((d) => d.role === role)));
}

/** A step at `path` (e.g. ['steps', 2]) naming a device the scenario does not declare. */
export function undeclaredDeviceIssue(yaml: YamlFile, path: PathKey[], step: ScenarioStep, declared: readonly string[]): ValidationIssue | undefined {
  const device = stepDevice(step);
  if (device === undefined || declared.includes(device)) return undefined;
  const raw = yaml.doc.getIn([...path, step.kind]);
  const at = typeof raw === 'string' ? [...path, step.kind] : [...path, step.kind, 'device'];
  const label = `${pathLabel('scenario', path)}.${step.kind}`;
  const declaredText = declared.length ? `uses.devices declares ${declared.join(', ')}` : 'uses.devices declares none';
  return issueAt(yaml, at, `${label}: device ${quote(device)} is not declared in uses.devices (${declaredText})`,
    didYouMean(device, declared) ?? `add ${device} to uses.devices`);
}

/**
 * Each declared role must be on one of `rigs`, and one rig must have them all. Issues sit at the
 * role's entry in uses.devices and name the rigs' roles.
 */
export function rigRoleIssues(yaml: YamlFile, roles: readonly string[], rigs: readonly RigRoles[]): ValidationIssue[] {
  if (rigs.length === 0) return [];
  const rolesOf = (rig: RigRoles) => rig.devices.map((d) => d.role);
  const describeRigs = () => rigs.map((r) => `${r.name}: ${rolesOf(r).join(', ') || 'none'}`).join('; ');
  const issues: ValidationIssue[] = [];
  roles.forEach((role, index) => {
    if (rigs.some((r) => rolesOf(r).includes(role))) return;
    const where = rigs.length === 1
      ? `rig ${rigs[0]!.name} (${shown(rigs[0]!.file)}) has no device ${quote(role)}; its devices: ${rolesOf(rigs[0]!).join(', ') || 'none'}`
      : `no rig has a device ${quote(role)} (${describeRigs()})`;
    issues.push(issueAt(yaml, ['uses', 'devices', index], `uses.devices[${index}]: ${where}`,
      didYouMean(role, new Set(rigs.flatMap(rolesOf)))));
  });
  if (issues.length === 0 && roles.length > 1 && !rigs.some((r) => roles.every((role) => rolesOf(r).includes(role)))) {
    issues.push(issueAt(yaml, ['uses', 'devices'], `uses.devices: no one rig has all of ${roles.join(', ')} (${describeRigs()})`));
  }
  return issues;
}

function shown(file: string): string {
  return relative(process.cwd(), file) || file;
}
