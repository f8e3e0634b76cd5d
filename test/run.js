// npm test: every test/**/*.test.ts under Node's test runner (through tsx).
// A lane (tests that need tools from outside npm: cc, nanopb, python3, …) whose tools are missing
// skips with one line saying what to install, and fails under CI=true: test/support/lane.ts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) { if (entry.name !== 'fixtures') walk(path); }
    else if (entry.name.endsWith('.test.ts')) files.push(relative(root, path));
  }
})(join(root, 'test'));
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error(`no test files match ${only.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...selected.sort()], {
  cwd: root, stdio: 'inherit',
});
process.exit(result.status ?? 1);
