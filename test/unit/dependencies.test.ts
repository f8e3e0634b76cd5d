// Declare what is imported, import what is declared: every package the harness imports at run time
// is a dependency, every dependency is imported, and build-time imports are devDependencies.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
/** Run only to build dist/ at install time (`prepare`), never by a user's run. */
const BUILD_ONLY = ['harness/build.js'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(path);
    return /\.(ts|js|mjs)$/.test(e.name) ? [path] : [];
  });
}

function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]|\.resolve\(\s*['"]([^'"]+)['"]\s*\)/gm)]
    // `.resolve('pkg')`: a package read as files at run time (the report inlines uPlot's build).
    .map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]!);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

test('every package the harness imports is declared, at run time as a dependency', () => {
  const runtime = new Set<string>();
  const buildTime = new Set<string>();
  for (const file of sources(join(root, 'harness'))) {
    const into = BUILD_ONLY.includes(relative(root, file)) ? buildTime : runtime;
    for (const name of importedPackages(file)) into.add(name);
  }
  for (const name of runtime) assert.ok(name in pkg.dependencies, `harness imports ${name}, which package.json does not list under dependencies`);
  for (const name of buildTime) assert.ok(name in pkg.dependencies || name in pkg.devDependencies, `harness/build.js imports ${name}, which package.json does not declare`);
  for (const name of Object.keys(pkg.dependencies)) assert.ok(runtime.has(name), `${name} is a dependency that no harness module imports`);
});
