// The lane rule (test/support/lane.ts): a test file whose lane lacks a tool runs in a subprocess,
// as npm test runs it, once without CI and once under CI=true.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { laneMessage, missingNeeds, NEEDS, type Need } from '../support/lane.ts';

const root = resolve(import.meta.dirname, '../..');
const ABSENT = 'dextbench-no-such-tool';

function runLaneFile(needs: string, ci: boolean): { code: number | null; stdout: string; stderr: string } {
  // NODE_TEST_CONTEXT would make the inner runner talk to ours instead of printing its report.
  const { CI: _ci, NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/fixtures/lane/one-lane.ts'], {
    cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...env, LANE_NEEDS: needs, ...(ci ? { CI: 'true' } : {}) },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The loud lines (node's runner passes a file's stderr on in its report, on stdout). */
const loud = (r: { stdout: string; stderr: string }): string[] => `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('!!!'));

const LINE = `lane "fixture lane" needs ${ABSENT}: apt-get install fixture-tools`;

test('a lane without its tool skips with one line naming the tool and the packages, and the run passes', () => {
  const r = runLaneFile(ABSENT, false);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(loud(r), [`!!! SKIPPING: ${LINE}`]);
  assert.match(r.stdout, /ℹ skipped 1\n/);
  assert.match(r.stdout, /ℹ pass 0\n/);
  assert.doesNotMatch(r.stdout, /the lane ran/);
});

test('under CI=true the same lane is a failing test that names what to install', () => {
  const r = runLaneFile(ABSENT, true);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.deepEqual(loud(r), [`!!! FAILING (CI=true): ${LINE}`]);
  assert.match(r.stdout, /✖ lane "fixture lane": its tools are installed \(CI=true\)/);
  assert.match(r.stdout, new RegExp(`Error: ${LINE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(r.stdout, /ℹ fail 1\n/);
  assert.doesNotMatch(r.stdout, /the lane ran/);
});

test('a lane with its tool runs, with or without CI, and says nothing', () => {
  for (const ci of [false, true]) {
    const r = runLaneFile('sh', ci);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /the lane ran/);
    assert.match(r.stdout, /ℹ pass 1\n/);
    assert.deepEqual(loud(r), []);
  }
});

// -------------------------------------------------------------- what counts as present

const scratch = mkdtempSync(join(tmpdir(), 'dextbench-lane-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('commands: an executable file in a PATH folder; a file that is not executable does not count', () => {
  const bin = join(scratch, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'tool'), '#!/bin/sh\n');
  chmodSync(join(bin, 'tool'), 0o755);
  writeFileSync(join(bin, 'notes'), 'text\n');
  const need = (name: string): Need => ({ what: name, anyOf: [name], debian: [name] });
  const env = { PATH: `/nonexistent:${bin}` };
  assert.deepEqual(missingNeeds([need('tool'), need('notes'), need('sh')], env).map((n) => n.what), ['notes', 'sh']);
  assert.deepEqual(missingNeeds([{ what: 'gen', anyOf: ['gen', 'tool'], debian: [] }], env), [], 'any of the names');
});

test('files: absolute paths, `*` for one folder name, and the Makefiles\' environment overrides', () => {
  mkdirSync(join(scratch, 'lib', 'x86_64-linux-gnu'), { recursive: true });
  writeFileSync(join(scratch, 'lib', 'x86_64-linux-gnu', 'libfoo.a'), '');
  const lib: Need = { what: 'libfoo.a', anyOf: [join(scratch, 'lib', '*', 'libfoo.a')], env: ['FOO_LIB'], debian: ['libfoo-dev'] };
  const header: Need = { what: 'foo.h', anyOf: [join(scratch, 'include', 'foo.h')], env: ['FOO_DIR'], debian: ['libfoo-dev'] };
  assert.deepEqual(missingNeeds([lib, header], { PATH: '' }).map((n) => n.what), ['foo.h']);
  assert.deepEqual(missingNeeds([lib, header], { PATH: '', FOO_DIR: '/opt/foo' }), []);
  assert.deepEqual(missingNeeds([{ ...lib, anyOf: [join(scratch, 'lib', '*', 'libbar.a')] }], { PATH: '' }).map((n) => n.what), ['libfoo.a']);
});

test('the line lists each package once, sorted', () => {
  assert.equal(laneMessage('C', [NEEDS.protoc, NEEDS.nanopbHeaders, NEEDS.nanopbRuntime, NEEDS.nanopbGenerator]),
    'lane "C" needs protoc, pb.h, libprotobuf-nanopb.a, nanopb_generator: apt-get install libnanopb-dev nanopb protobuf-compiler');
});
