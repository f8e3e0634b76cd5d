// Reading YAML with positions: every problem found later (by zod, by cross-checks, by variable
// substitution) is pinned back to the node it came from through these helpers.
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import { quote, type ValidationIssue } from './issues.ts';
import { keepBigIntegersExact } from './exact-integers.ts';

export type PathKey = string | number;

export interface YamlFile {
  file: string;
  source: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

// A garbled file yields a syntax error per fragment; the first few say what is wrong.
const MAX_SYNTAX_ISSUES = 5;
// How far aliases may expand: the limit the loaders' own toJS() calls apply (the yaml package's default).
const MAX_ALIAS_COUNT = 100;

/** Parses a file; syntax errors, duplicate keys and unresolved tags come back as issues. */
export function readYamlFile(file: string): { yaml?: YamlFile; issues: ValidationIssue[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message;
    return { issues: [{ file, line: 1, column: 1, message: `cannot read this file: ${why}` }] };
  }
  const binary = binaryIssue(file, bytes);
  if (binary) return { issues: [binary] };
  return parseYamlSource(file, bytes.toString('utf8'));
}

export function parseYamlSource(file: string, source: string): { yaml?: YamlFile; issues: ValidationIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: true, uniqueKeys: true, strict: true });
  const problems = [...doc.errors, ...doc.warnings];
  const issues = problems.slice(0, MAX_SYNTAX_ISSUES).map((e): ValidationIssue => {
    const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, message: yamlMessage(e.code, e.message, source, e.pos[0]) };
  });
  if (problems.length > MAX_SYNTAX_ISSUES) {
    const next = problems[MAX_SYNTAX_ISSUES]!;
    const pos = next.linePos?.[0] ?? lineCounter.linePos(next.pos[0]);
    issues.push({ file, line: pos.line, column: pos.col,
      message: `${problems.length - MAX_SYNTAX_ISSUES} more YAML problem(s) from here on, not listed (later errors often follow from the first)` });
  }
  if (doc.errors.length) return { issues };
  const yaml: YamlFile = { file, source, doc, lineCounter };
  const bomb = aliasBombIssue(yaml);
  if (bomb) return { issues: [...issues, bomb] };
  keepBigIntegersExact(doc);
  return { yaml, issues };
}

/**
 * Aliases that expand into too many nodes (a "billion laughs" file) make the yaml package refuse
 * to build values; caught here, once per file, at the first alias.
 */
function aliasBombIssue(yaml: YamlFile): ValidationIssue | undefined {
  try {
    yaml.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    return undefined;
  } catch (error) {
    let first: Located = { line: 1, column: 1 };
    let name = '';
    visit(yaml.doc, {
      Alias(_key, node) {
        first = positionOfOffset(yaml, node.range?.[0] ?? 0);
        name = node.source;
        return visit.BREAK;
      },
    });
    const why = (error as Error).message.split('\n')[0]!;
    return { file: yaml.file, line: first.line, column: first.column,
      message: `aliases${name ? ` (*${name} and others)` : ''} expand into too many values (${why}); write the values out, or use fewer levels of aliases` };
  }
}

/**
 * A file that is not text (NUL or other control bytes, or bytes that are not UTF-8) is reported
 * once, at its first such byte, instead of as a flood of syntax errors quoting it.
 */
function binaryIssue(file: string, bytes: Buffer): ValidationIssue | undefined {
  const invalidAt = firstInvalidUtf8(bytes);
  const text = bytes.subarray(0, invalidAt < 0 ? bytes.length : invalidAt).toString('utf8');
  // YAML streams are printable: tab, LF and CR are the only C0 controls allowed (YAML 1.2 c-printable).
  const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (!control && invalidAt < 0) return undefined;
  const at = control ? control.index : text.length;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - (before.lastIndexOf('\n') + 1) + 1;
  const what = control ? `control byte 0x${control[0].charCodeAt(0).toString(16).padStart(2, '0')}` : `byte 0x${bytes[invalidAt]!.toString(16)}, which is not UTF-8`;
  return { file, line, column, message: `not a YAML text file: it holds binary data (${what}); check the path` };
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const extra = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (extra < 0) return i;
    for (let k = 1; k <= extra; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong 3- and 4-byte forms, UTF-16 surrogates and code points past U+10FFFF.
    const second = bytes[i + 1]!;
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second >= 0xa0) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second >= 0x90)) return i;
    i += extra + 1;
  }
  return -1;
}

function yamlMessage(code: string, message: string, source: string, offset: number): string {
  const first = capLength(message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
  if (code === 'DUPLICATE_KEY') {
    const key = /^("[^"]*"|'[^']*'|[^:\s,{}[\]]+)/.exec(source.slice(offset))?.[1] ?? '';
    return `duplicate key ${key.startsWith('"') || key.startsWith("'") ? capLength(key) : quote(key)}: a key may appear only once in a map`;
  }
  if (code === 'TAG_RESOLVE_FAILED') return `${first}: dextbench files use plain YAML values, no custom tags`;
  if (/^Missing closing ["']quote/.test(first)) return `YAML syntax error: a quoted value is never closed (missing closing ${first.charAt(16)})`;
  return `YAML syntax error: ${first}`;
}

/** The yaml package quotes the offending text in its messages: keep the start of it. */
function capLength(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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
    : isSeq(contents) ? 'got a list' : `got ${quote(String(isScalar(contents) ? contents.value : contents))}`;
  return issueAt(yaml, [], `${what}; ${found}`);
}

export function issueAt(yaml: YamlFile, path: readonly PathKey[], message: string, hint?: string, target: 'value' | 'key' = 'value'): ValidationIssue {
  const { line, column } = positionOf(yaml, path, target);
  return hint ? { file: yaml.file, line, column, message, hint } : { file: yaml.file, line, column, message };
}
