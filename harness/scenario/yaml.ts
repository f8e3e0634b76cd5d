// Reading YAML with positions: every problem found later (by zod, by cross-checks, by variable
// substitution) is pinned back to the node it came from through these helpers.
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { ValidationIssue } from './issues.ts';

export type PathKey = string | number;

export interface YamlFile {
  file: string;
  source: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** Parses a file; syntax errors, duplicate keys and unresolved tags come back as issues. */
export function readYamlFile(file: string): { yaml?: YamlFile; issues: ValidationIssue[] } {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message;
    return { issues: [{ file, line: 1, column: 1, message: `cannot read this file: ${why}` }] };
  }
  return parseYamlSource(file, source);
}

export function parseYamlSource(file: string, source: string): { yaml?: YamlFile; issues: ValidationIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true });
  const issues = [...doc.errors, ...doc.warnings].map((e): ValidationIssue => {
    const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, message: yamlMessage(e.code, e.message, source, e.pos[0]) };
  });
  if (doc.errors.length) return { issues };
  return { yaml: { file, source, doc, lineCounter }, issues };
}

function yamlMessage(code: string, message: string, source: string, offset: number): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'DUPLICATE_KEY') {
    const key = /^("[^"]*"|'[^']*'|[^:\s,{}[\]]+)/.exec(source.slice(offset))?.[1] ?? '';
    return `duplicate key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}: a key may appear only once in a map`;
  }
  if (code === 'TAG_RESOLVE_FAILED') return `${first}: dextbench files use plain YAML values, no custom tags`;
  if (/^Missing closing ["']quote/.test(first)) return `YAML syntax error: a quoted value is never closed (missing closing ${first.charAt(16)})`;
  return `YAML syntax error: ${first}`;
}

export interface Located {
  line: number;
  column: number;
}

export function positionOfOffset(yaml: YamlFile, offset: number): Located {
  const p = yaml.lineCounter.linePos(offset);
  return { line: p.line, column: p.col };
}

function nodeStart(yaml: YamlFile, node: Node | Pair | null | undefined): Located {
  const range = isPair(node) ? (node.key as Node | null)?.range : (node as Node | null | undefined)?.range;
  return positionOfOffset(yaml, range?.[0] ?? 0);
}

/** The pair of a map whose key is `key` (keys compared as strings, as zod paths hold them). */
export function pairOf(map: unknown, key: PathKey): Pair | undefined {
  if (!isMap(map)) return undefined;
  return map.items.find((p) => isScalar(p.key) ? String(p.key.value) === String(key) : String(p.key) === String(key));
}

/**
 * Where the node at `path` starts. `target: 'key'` gives the key's own position (unknown keys);
 * a missing node gives its nearest existing ancestor (the parent map of a missing key); a key
 * with an empty value gives the key.
 */
export function positionOf(yaml: YamlFile, path: readonly PathKey[], target: 'value' | 'key' = 'value'): Located {
  let node: unknown = yaml.doc.contents;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = pairOf(node, segment);
      if (!pair) return nodeStart(yaml, node as Node);
      if (i === path.length - 1 && target === 'key') return nodeStart(yaml, pair.key as Node);
      if (isEmpty(pair.value)) return nodeStart(yaml, pair.key as Node);
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(String(segment))) {
      const item = node.items[Number(segment)];
      if (item === undefined || item === null) return nodeStart(yaml, node);
      node = item;
    } else {
      return nodeStart(yaml, node as Node);
    }
  }
  return nodeStart(yaml, node as Node);
}

/** `key:` with nothing after it: the value node is an empty null scalar, or none at all. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  return isScalar(value) && value.value === null && (value.range === undefined || value.range === null || value.range[0] === value.range[1]);
}

/** The issue for a document whose top level is not a map (`what` names the keys it needs). */
export function notAMapIssue(yaml: YamlFile, what: string): ValidationIssue {
  const contents = yaml.doc.contents;
  const found = contents === null || (isScalar(contents) && contents.value === null) ? 'the file is empty'
    : isSeq(contents) ? 'got a list' : `got ${JSON.stringify(String(isScalar(contents) ? contents.value : contents))}`;
  return issueAt(yaml, [], `${what}; ${found}`);
}

export function issueAt(yaml: YamlFile, path: readonly PathKey[], message: string, hint?: string, target: 'value' | 'key' = 'value'): ValidationIssue {
  const { line, column } = positionOf(yaml, path, target);
  return hint ? { file: yaml.file, line, column, message, hint } : { file: yaml.file, line, column, message };
}
