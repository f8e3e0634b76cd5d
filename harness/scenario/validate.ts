// `dextbench validate`: every scenario, rig and device profile given (folders recursively), all
// problems collected instead of stopping at the first file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import type { ExtensionDecl, RigDefinition } from '../rig/types.ts';
import { borrowedExtensions, rigsWithNeeds } from './device-roles.ts';
import { deviceFromYaml } from './device.ts';
import { quote, sortIssues, type ValidationIssue } from './issues.ts';
import { rigFromYaml } from './rig.ts';
import { scenarioFromYaml } from './scenario.ts';
import type { StepSchemas } from './steps.ts';
import { parseYamlSource, readYamlFile, type YamlFile } from './yaml.ts';

export type DocumentKind = 'scenario' | 'rig' | 'device';

const FOLDER_KINDS: Record<string, DocumentKind> = { scenarios: 'scenario', rigs: 'rig', devices: 'device' };

/**
 * What a file is: by the nearest enclosing scenarios/, rigs/ or devices/ folder, else by its keys
 * (steps → scenario, host/hubs → rig, usb/interfaces → device); scenario when nothing tells.
 */
export function detectDocumentKind(file: string, parsed: unknown): DocumentKind {
  const folders = dirname(resolve(file)).split(sep).reverse();
  for (const folder of folders) {
    const kind = FOLDER_KINDS[folder];
    if (kind) return kind;
  }
  const keys = new Set(keysOf(parsed));
  if (keys.has('usb') || keys.has('interfaces')) return 'device';
  if (keys.has('host') || keys.has('hubs')) return 'rig';
  return 'scenario';
}

function keysOf(parsed: unknown): string[] {
  if (isMap(parsed)) return parsed.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)));
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return Object.keys(parsed);
  return [];
}

export interface ValidateOptions {
  steps: StepSchemas;
  vars?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Variables of the rig the scenarios would run on. */
  rigVars?: Record<string, string>;
  rigExtensions?: Record<string, ExtensionDecl>;
  /**
   * The rigs scenarios may run on: each scenario's device roles must be on one of them, and it is
   * checked with the variables of every rig that has all its roles (as a run on that rig would).
   */
  rigs?: readonly RigDefinition[];
}

/** Files and folders (recursively: *.yaml, *.yml) → the files checked and every issue found. */
export function validateFiles(paths: string[], options: ValidateOptions): { checked: string[]; issues: ValidationIssue[] } {
  const files = expandYamlFiles(paths);
  const issues: ValidationIssue[] = [];
  for (const file of files) {
    try {
      const read = readYamlFile(file);
      issues.push(...read.issues);
      if (!read.yaml) continue;
      const kind = detectDocumentKind(file, read.yaml.doc.contents);
      if (kind === 'rig') issues.push(...rigFromYaml(read.yaml, options).issues);
      else if (kind === 'device') issues.push(...deviceFromYaml(read.yaml).issues);
      else issues.push(...scenarioIssues(read.yaml, options));
    } catch (error) {
      // A loader bug must not hide the files after this one.
      issues.push({ file, line: 1, column: 1, message: `could not check this file: ${quote((error as Error).message ?? String(error))}` });
    }
  }
  return { checked: files, issues: sortIssues(issues) };
}

/** A scenario checked against each rig that has all it needs (or the first rig, to name what is missing). */
function scenarioIssues(yaml: YamlFile, options: ValidateOptions): ValidationIssue[] {
  const rigs = options.rigs ?? [];
  if (rigs.length === 0) return scenarioFromYaml(yaml, options).issues;
  const declared = yaml.doc.getIn(['uses', 'devices']);
  const roles = isSeqOfStrings(declared) ? declared.items.map((i) => String(i.value)) : [];
  const declaredExtensions = yaml.doc.getIn(['uses', 'extensions']);
  const extensions = isMap(declaredExtensions) ? borrowedExtensions(declaredExtensions.toJSON() as Record<string, unknown>) : [];
  const fitting = rigsWithNeeds({ roles, extensions }, rigs);
  const issues: ValidationIssue[] = [];
  for (const rig of fitting.length ? fitting : rigs.slice(0, 1)) {
    // Variables are substituted in the document itself: each rig gets a fresh parse.
    const fresh = parseYamlSource(yaml.file, yaml.source).yaml ?? yaml;
    issues.push(...scenarioFromYaml(fresh, { ...options, rigVars: rig.vars, rigs }).issues);
  }
  return issues;
}

function isSeqOfStrings(node: unknown): node is { items: { value: unknown }[] } {
  return isSeq(node) && node.items.every((i) => isScalar(i) && typeof i.value === 'string');
}

function expandYamlFiles(paths: string[]): string[] {
  const files = new Set<string>();
  const visit = (path: string, top: boolean) => {
    if (top && !existsSync(path)) {
      files.add(path); // reported as unreadable by readYamlFile
      return;
    }
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry.startsWith('.') || entry === 'node_modules') continue;
        visit(join(path, entry), false);
      }
    } else if (top || /\.ya?ml$/.test(basename(path))) {
      files.add(path);
    }
  };
  for (const p of paths) visit(resolve(p), true);
  return [...files].sort();
}
