// Imports only run downward (ARCHITECTURE.md): a folder of harness/ may import the folders below it,
// never above or beside it. rig/types.ts, what a rig has, is pure types that any layer may name
// (type-only). The simulated Mac imports nothing of the harness, and nothing imports it: the sim is
// reached only through the surfaces a real Mac has.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const harness = new URL('../../harness', import.meta.url).pathname;
const RANK: Record<string, number> = { common: 0, host: 1, profile: 1, power: 2, channel: 2, usb: 1.5, emulate: 2, rig: 3, es: 3, ne: 3, scenario: 3, provision: 3.5, steps: 4, engine: 5, history: 1, report: 5.5, cli: 6 };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'build' ? [] : files(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

const topOf = (path: string) => relative(harness, path).split('/')[0]!;

test('harness folders import only the folders below them; the sim stands apart', () => {
  const wrong: string[] = [];
  for (const file of files(harness)) {
    const from = topOf(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), m[3]!);
      const to = topOf(target);
      if (to === from || !target.startsWith(harness)) continue;
      const typeOnly = m[2] !== undefined;
      const where = `${relative(harness, file)} imports ${relative(harness, target)}`;
      if (from === 'sim' || to === 'sim') { wrong.push(`${where}: the simulated Mac is reached only through its shims`); continue; }
      if (typeOnly && relative(harness, target) === 'rig/types.ts') continue;
      if (!(to in RANK) || !(from in RANK)) continue;
      if (RANK[to]! >= RANK[from]!) wrong.push(`${where}: ${to}/ is not below ${from}/`);
    }
  }
  assert.deepEqual(wrong, []);
});
