// Reads a file of test/fixtures/macos (see its README for where each sample comes from).
import { readFileSync } from 'node:fs';

export function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/macos/${name}`, import.meta.url), 'utf8');
}

/** TABs expanded to spaces at 8-column stops, as a terminal or GitHub renders them. */
export function expandTabs(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let out = '';
      for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
      return out;
    })
    .join('\n');
}

/** Every run of spaces/TABs collapsed to one space (1-O's gist rendering). */
export function collapseWhitespace(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' '))
    .join('\n');
}
