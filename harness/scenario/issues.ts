// Problems found in YAML files, each pinned to a file:line:column, and the one-line format the
// CLI prints (clickable in editors and terminals).
import { relative } from 'node:path';

export interface ValidationIssue {
  /** Absolute path of the file the problem is in. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The offending key or value and what was expected. */
  message: string;
  /** A fix, printed after the message: "did you mean 'steps'?". */
  hint?: string;
}

// What a message may quote from a file: enough to recognise the value, never a whole bad file.
const QUOTE_MAX = 60;
const MESSAGE_MAX = 600;

/** `<file relative to cwd>:<line>:<col>: <message>[; <hint>]`, one line of bounded length. */
export function formatIssue(issue: ValidationIssue, cwd: string = process.cwd()): string {
  const rel = relative(cwd, issue.file) || issue.file;
  const text = `${issue.message}${issue.hint ? `; ${issue.hint}` : ''}`.replace(/[\r\n]+/g, ' ');
  return `${rel}:${issue.line}:${issue.column}: ${text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX - 1)}…` : text}`;
}

/** A string as a message quotes it: JSON-escaped, cut to its start when long (with its length). */
export function quote(text: string): string {
  if (text.length <= QUOTE_MAX) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTE_MAX))}… (${text.length} characters)`;
}

/** Thrown by the loaders; its message is every issue formatted, one per line, in file order. */
export class ValidationError extends Error {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    const sorted = sortIssues(issues);
    super(sorted.map((i) => formatIssue(i)).join('\n'));
    this.name = 'ValidationError';
    this.issues = sorted;
  }
}

export function sortIssues(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues
    .filter((i) => {
      const key = `${i.file}\0${i.line}\0${i.column}\0${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/**
 * Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring):
 * insertions, deletions, substitutions and swaps of two neighbours each cost 1, so `stesp` is 1
 * away from `steps`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate when it is close enough to be a typo (case is ignored), else undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return best !== undefined && bestDistance <= allowed && best !== word ? best : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closest(word, candidates);
  return match === undefined ? undefined : `did you mean '${match}'?`;
}

/** A value as it appears in a message: strings quoted, collections named. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}
