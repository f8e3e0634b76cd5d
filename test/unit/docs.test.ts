// What the docs and the example rig say is checked against what the code and the build scripts do.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRig } from '../../harness/scenario/index.ts';

const root = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');

test('README starts with the two commands that matter, and cites only files in the repo', () => {
  const readme = read('README.md');
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  assert.match(firstBlock, /^npm install\nnpx dextbench run .*\nnpm test /m);
  assert.doesNotMatch(readme, /\.\.\/shared\//, 'README cites files outside the repo');
  for (const [, path] of readme.matchAll(/\(([A-Z]+\.md)\)|`([A-Z]+\.md)`/g)) if (path) assert.ok(existsSync(join(root, path)), path);
  assert.ok(existsSync(join(root, 'ARCHITECTURE.md')));
  assert.match(readme, /ARCHITECTURE\.md/);
});

test('the example rig\'s dext paths are the ones dext-fixtures/echo/build.sh writes', () => {
  const rig = loadRig(join(root, 'rigs/desk.example.yaml'), { env: {} });
  const build = read('dext-fixtures/echo/build.sh');
  const paths = [...Object.values(rig.vars), ...Object.values(rig.extensions).map((e) => e.dext ?? '')].filter((p) => p.includes('/dext-fixtures/echo/'));
  assert.ok(paths.length >= 3);
  for (const path of paths) {
    const written = path.slice(path.indexOf('/dext-fixtures/echo/') + '/dext-fixtures/echo/'.length);
    assert.ok(build.includes(`-> ${written}`) || (written === 'build/com.example.echo.driver.dext' && build.includes('out=$here/build') && build.includes('dext=$out/$bundle_id.dext')),
      `build.sh does not write ${written}`);
  }
  assert.match(read('rigs/desk.example.yaml'), /RemovableSystemExtensions/, 'the example rig tells unattended rigs what cleanup needs');
});

test('docs name only commands that exist: every `dextbench <command>` in the README, the example rigs and the activator README', () => {
  const commands = new Set([...read('harness/cli/main.ts').matchAll(/case '([a-z]+)': return/g)].map((m) => m[1]));
  assert.ok(commands.has('doctor') && commands.has('provision') && commands.has('profile'));
  for (const file of ['README.md', 'rigs/desk.example.yaml', 'rigs/mac-over-ssh.example.yaml', 'rigs/ci-mini-cambrionix.example.yaml', 'rigs/linux-controller-pi-gadget.example.yaml', 'dext-fixtures/activator/README.md']) {
    // As a command is written: `npx dextbench x` or `dextbench x` in backquotes.
    const named = [...read(file).matchAll(/(?:npx |`)dextbench ([a-z][a-z-]*)/g)].map((m) => m[1]!);
    for (const command of named) assert.ok(commands.has(command), `${file} names \`dextbench ${command}\`, which is not a command`);
  }
  for (const example of ['rigs/desk.example.yaml', 'rigs/mac-over-ssh.example.yaml', 'rigs/ci-mini-cambrionix.example.yaml', 'rigs/linux-controller-pi-gadget.example.yaml']) loadRig(join(root, example), { env: {} });
  assert.equal(loadRig(join(root, 'rigs/mac-over-ssh.example.yaml'), { env: {} }).host.kind, 'ssh');
});
