// Device roles: a scenario's steps may name only the roles it declares in uses.devices, and a rig
// must have every role the scenario declares, and every extension it borrows (declared without a
// build of its own). A typo in either place is an error at its line, never a scenario that quietly
// does not run.
import { relative } from 'node:path';
import type { RigDevice } from '../rig/types.ts';
import { EXTENSION_SOURCES } from './common.ts';
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
  extensions: Readonly<Record<string, unknown>>;
}

/** What a scenario needs of the rig it runs on: its device roles and the extensions it takes from the rig. */
export interface RigNeeds {
  roles: readonly string[];
  extensions: readonly string[];
}

/**
 * The extensions a scenario declares without dext:, app: or systemExtension: (a bundle or config
 * only): they are the rig's builds, so the rig must declare them. Takes uses.extensions parsed or
 * as written (a value that is not a map is the schema's to report).
 */
export function borrowedExtensions(extensions: Readonly<Record<string, unknown>>): string[] {
  const withoutBuild = (decl: unknown) => typeof decl === 'object' && decl !== null
    && EXTENSION_SOURCES.every((key) => (decl as Partial<Record<string, unknown>>)[key] === undefined);
  return Object.entries(extensions).filter(([, decl]) => withoutBuild(decl)).map(([name]) => name);
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

/** The rigs that have every role a scenario declares and every extension it borrows: the ones it runs on. */
export function rigsWithNeeds<Rig extends RigRoles>(needs: RigNeeds, rigs: readonly Rig[]): Rig[] {
  return rigs.filter((rig) => needs.roles.every((role) => rig.devices.some((d) => d.role === role))
    && needs.extensions.every((name) => Object.hasOwn(rig.extensions, name)));
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
function rigRoleIssues(yaml: YamlFile, roles: readonly string[], rigs: readonly RigRoles[]): ValidationIssue[] {
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

/**
 * Each borrowed extension must be declared by one of `rigs`. Issues sit at the extension's entry in
 * uses.extensions and name the rigs' extensions.
 */
function rigExtensionIssues(yaml: YamlFile, names: readonly string[], rigs: readonly RigRoles[]): ValidationIssue[] {
  const namesOf = (rig: RigRoles) => Object.keys(rig.extensions);
  const describeRigs = () => rigs.map((r) => `${r.name}: ${namesOf(r).join(', ') || 'none'}`).join('; ');
  return names.filter((name) => !rigs.some((r) => Object.hasOwn(r.extensions, name))).map((name) => {
    const where = rigs.length === 1
      ? `rig ${rigs[0]!.name} (${shown(rigs[0]!.file)}) declares no extension ${quote(name)}; its extensions: ${namesOf(rigs[0]!).join(', ') || 'none'}`
      : `no rig declares an extension ${quote(name)} (${describeRigs()})`;
    return issueAt(yaml, ['uses', 'extensions', name], `uses.extensions.${name}: ${where}`,
      didYouMean(name, new Set(rigs.flatMap(namesOf))) ?? 'declare it in the rig, or give its dext:, app: or systemExtension: here');
  });
}

/**
 * What the scenario needs must be on `rigs`: each role and each borrowed extension on one of them
 * (issues at their entries), and all of them on one rig.
 */
export function rigNeedsIssues(yaml: YamlFile, needs: RigNeeds, rigs: readonly RigRoles[]): ValidationIssue[] {
  if (rigs.length === 0) return [];
  const issues = [...rigRoleIssues(yaml, needs.roles, rigs), ...rigExtensionIssues(yaml, needs.extensions, rigs)];
  if (issues.length === 0 && needs.roles.length > 0 && needs.extensions.length > 0 && rigsWithNeeds(needs, rigs).length === 0) {
    const describe = (r: RigRoles) => `${r.name}: devices ${r.devices.map((d) => d.role).join(', ') || 'none'}, extensions ${Object.keys(r.extensions).join(', ') || 'none'}`;
    issues.push(issueAt(yaml, ['uses'], `uses: no one rig has the devices ${needs.roles.join(', ')} and the extensions ${needs.extensions.join(', ')} (${rigs.map(describe).join('; ')})`));
  }
  return issues;
}

function shown(file: string): string {
  return relative(process.cwd(), file) || file;
}
