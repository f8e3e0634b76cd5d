// A scenario or rig file as it ran: its own YAML (comments and order kept) with every ${NAME}
// expanded the way the loaders expand it, and paths written relative to the file rewritten: with
// a project root, the ones inside the project as `./path` from that root (a repro bundle is opened
// in another checkout, at another path: relocatedYaml resolves them against it), the others
// absolute. `${result.path}` references to earlier steps stay, as the loader keeps them.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { projectRelative } from '../common/project-path.ts';
import { isRelativePathLike, resolveFrom } from './common.ts';
import { ValidationError } from './issues.ts';
import { rigFromYaml, type LoadRigOptions } from './rig.ts';
import { scenarioFromYaml, type LoadScenarioOptions } from './scenario.ts';
import { readYamlFile, type YamlFile } from './yaml.ts';

// A scenario's relative paths (dext:, script: file, es.mount image) name files beside it; a
// relative argv word names something on the Mac: only paths that exist here are rewritten.
const SCENARIO_PATH = (path: string) => existsSync(path);
// Every relative path in a rig file (profiles, builds, keys) is relative to the rig file.
const RIG_PATH = () => true;

export function resolvedScenarioYaml(file: string, options: LoadScenarioOptions, projectRoot?: string): string {
  const yaml = read(file);
  const { issues } = scenarioFromYaml(yaml, options);
  if (issues.length) throw new ValidationError(issues);
  rewritePaths(yaml, yaml.doc.contents, SCENARIO_PATH, projectRoot);
  return yaml.doc.toString({ lineWidth: 0 });
}

export function resolvedRigYaml(file: string, options: LoadRigOptions, projectRoot?: string): string {
  const yaml = read(file);
  const { issues } = rigFromYaml(yaml, options);
  if (issues.length) throw new ValidationError(issues);
  rewritePaths(yaml, yaml.doc.contents, RIG_PATH, projectRoot);
  return yaml.doc.toString({ lineWidth: 0 });
}

/**
 * A bundle's resolved file (written with a project root) for this checkout: its `./path`s resolved
 * against `projectRoot`, so the copy runs from wherever it is written. In a scenario only those
 * that exist here, as when it was resolved (a relative argv word stays as written).
 */
export function relocatedYaml(bundleFile: string, kind: 'scenario' | 'rig', projectRoot: string): string {
  const yaml = read(bundleFile);
  // Resolved as if the file lay at the project's root.
  const asAtRoot: YamlFile = { ...yaml, file: join(projectRoot, 'bundle.yaml') };
  rewritePaths(asAtRoot, yaml.doc.contents, kind === 'scenario' ? SCENARIO_PATH : RIG_PATH);
  return yaml.doc.toString({ lineWidth: 0 });
}

function read(file: string): YamlFile {
  const { yaml, issues } = readYamlFile(file);
  if (!yaml) throw new ValidationError(issues);
  return yaml;
}

/**
 * Relative paths made absolute, or `./`-relative to `projectRoot` when they lie inside it; with a
 * project root, so are absolute ones inside it (a variable the loader expanded to an absolute path).
 */
function rewritePaths(yaml: YamlFile, node: unknown, isPath: (absolute: string) => boolean, projectRoot?: string): void {
  if (isMap(node)) {
    for (const pair of node.items) rewritePaths(yaml, pair.value, isPath, projectRoot);
  } else if (isSeq(node)) {
    for (const item of node.items) rewritePaths(yaml, item, isPath, projectRoot);
  } else if (isScalar(node) && typeof node.value === 'string') {
    const relativeHere = isRelativePathLike(node.value);
    if (!relativeHere && !(projectRoot !== undefined && isAbsolute(node.value))) return;
    const absolute = resolveFrom(yaml.file, node.value);
    if (!isPath(absolute)) return;
    node.value = projectRoot === undefined ? absolute : projectPath(projectRoot, absolute);
  }
}

/** `./rel` inside the project, the absolute path outside it. */
export function projectPath(projectRoot: string, absolute: string): string {
  const inProject = projectRelative(projectRoot, absolute);
  return isAbsolute(inProject) ? inProject : `./${inProject}`;
}
