// A scenario or rig file as it ran: its own YAML (comments and order kept) with every ${NAME}
// expanded the way the loaders expand it, and paths written relative to the file made absolute,
// so the copy in a repro bundle runs from wherever it lies on this machine. `${result.path}`
// references to earlier steps stay, as the loader keeps them.
import { existsSync } from 'node:fs';
import { isMap, isScalar, isSeq } from 'yaml';
import { isRelativePathLike, resolveFrom } from './common.ts';
import { ValidationError } from './issues.ts';
import { rigFromYaml, type LoadRigOptions } from './rig.ts';
import { scenarioFromYaml, type LoadScenarioOptions } from './scenario.ts';
import { readYamlFile, type YamlFile } from './yaml.ts';

export function resolvedScenarioYaml(file: string, options: LoadScenarioOptions): string {
  const yaml = read(file);
  const { issues } = scenarioFromYaml(yaml, options);
  if (issues.length) throw new ValidationError(issues);
  // A scenario's relative paths (dext:, script: file, es.mount image) name files beside it; a
  // relative argv word names something on the Mac: only paths that exist here are rewritten.
  absolutize(yaml, yaml.doc.contents, (path) => existsSync(path));
  return yaml.doc.toString({ lineWidth: 0 });
}

export function resolvedRigYaml(file: string, options: LoadRigOptions): string {
  const yaml = read(file);
  const { issues } = rigFromYaml(yaml, options);
  if (issues.length) throw new ValidationError(issues);
  // Every relative path in a rig file (profiles, builds, keys) is relative to the rig file.
  absolutize(yaml, yaml.doc.contents, () => true);
  return yaml.doc.toString({ lineWidth: 0 });
}

function read(file: string): YamlFile {
  const { yaml, issues } = readYamlFile(file);
  if (!yaml) throw new ValidationError(issues);
  return yaml;
}

function absolutize(yaml: YamlFile, node: unknown, keep: (absolute: string) => boolean): void {
  if (isMap(node)) {
    for (const pair of node.items) absolutize(yaml, pair.value, keep);
  } else if (isSeq(node)) {
    for (const item of node.items) absolutize(yaml, item, keep);
  } else if (isScalar(node) && typeof node.value === 'string' && isRelativePathLike(node.value)) {
    const absolute = resolveFrom(yaml.file, node.value);
    if (keep(absolute)) node.value = absolute;
  }
}
