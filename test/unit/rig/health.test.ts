// A rig's health: the <rig>.health file beside the lease (format, atomic replacement, world-readable),
// read and written through a real LocalExec (sh, mkdir, cat, mv); the state transitions and the one
// line a refused run prints.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalExec } from '../../../harness/host/exec.ts';
import {
  healthFileFor, healthRecord, parseHealthRecord, readHealth, refusalLine, runDecision, stateAfterCheck, writeHealth, type HealthRecord,
} from '../../../harness/rig/health.ts';

const root = mkdtempSync(join(tmpdir(), 'dextbench-health-'));
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshBase = () => join(root, `case-${++n}`, 'Users', 'Shared', 'dextbench', 'leases');
const exec = new LocalExec();

const record = (state: HealthRecord['state'], why = 'because'): HealthRecord => ({
  rig: 'desk', state, setBy: 'dextbench rig check', user: 'ci', host: 'mini-3', at: '2026-12-01T02:00:00.000Z', why,
});

test('the health file sits beside the lease: <leases>/<rig>.health, the rig name made safe', () => {
  assert.equal(healthFileFor('/Users/Shared/dextbench/leases/', 'desk'), '/Users/Shared/dextbench/leases/desk.health');
  assert.equal(healthFileFor('/x', 'a b/c'), '/x/a_b_c.health');
});

test('write then read: the record round-trips as JSON with who, when, why and the run id; the file is world-readable, the folder shared, nothing left aside', async () => {
  const base = freshBase();
  const written = healthRecord('desk', 'bad', { setBy: 'dextbench rig check', why: 'scenarios/health/echo-rig.yaml:23: plug echo: did not enumerate', runId: 'check-desk-1' });
  await writeHealth(exec, base, written);
  const file = healthFileFor(base, 'desk');
  const onDisk = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(onDisk, written);
  assert.equal(onDisk.state, 'bad');
  assert.equal(onDisk.runId, 'check-desk-1');
  assert.match(onDisk.at, /^\d{4}-\d\d-\d\dT/);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.equal(statSync(base).mode & 0o7777, 0o777);
  assert.deepEqual(readdirSync(base), ['desk.health']);
  assert.deepEqual(await readHealth(exec, base, 'desk'), written);
  // Replaced whole: a second write leaves only the new record.
  const good = healthRecord('desk', 'good', { setBy: 'dextbench rig state', why: 'hub swapped' });
  await writeHealth(exec, base, good);
  assert.deepEqual(await readHealth(exec, base, 'desk'), good);
  assert.deepEqual(readdirSync(base), ['desk.health']);
});

test('a rig never checked is unknown; a file that is not a health record is unknown, saying what is wrong', async () => {
  const base = freshBase();
  const never = await readHealth(exec, base, 'desk');
  assert.equal(never.state, 'unknown');
  assert.equal(never.why, 'never checked');
  mkdirSync(base, { recursive: true });
  writeFileSync(healthFileFor(base, 'desk'), '{"state":"broken","setBy":"x","at":"y","why":"z"}');
  const odd = await readHealth(exec, base, 'desk');
  assert.equal(odd.state, 'unknown');
  assert.match(odd.why, /desk\.health cannot be read: its state is "broken", expected one of good, unknown, bad, maintenance/);
  writeFileSync(healthFileFor(base, 'desk'), 'not json');
  assert.match((await readHealth(exec, base, 'desk')).why, /cannot be read: it is not JSON/);
});

test('a shared folder nobody may write: one line naming the file and the fix', { skip: process.getuid?.() !== 0 ? 'needs root to act as another user' : false }, async () => {
  const base = freshBase();
  mkdirSync(base, { recursive: true, mode: 0o755 });
  chmodSync(base, 0o755);
  const { spawnSync } = await import('node:child_process');
  const probe = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'true']);
  assert.equal(probe.status, 0, `setpriv as nobody: ${probe.stderr}`);
  const asNobody = { ...exec, where: 'this machine', run: (argv: string[], o: Parameters<LocalExec['run']>[1]) => exec.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv], o), close: async () => {} } as unknown as LocalExec;
  await assert.rejects(writeHealth(asNobody, base, record('good')), (e: Error) => {
    assert.match(e.message, /^could not write the health of rig "desk" \(.*desk\.health on this machine\): .*Permission denied; every user of the rig needs write access: sudo chmod 0777 /);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.equal(existsSync(healthFileFor(base, 'desk')), false);
});

test('parseHealthRecord: a record, or why it is not one', () => {
  assert.deepEqual(parseHealthRecord(JSON.stringify(record('maintenance'))), record('maintenance'));
  assert.deepEqual(parseHealthRecord('[1]'), { invalid: 'its state is undefined, expected one of good, unknown, bad, maintenance' });
  assert.deepEqual(parseHealthRecord('{"state":"good","setBy":"x","at":"y"}'), { invalid: 'its "why" is not a string' });
});

test('transitions: a check that passed is good, failed or cancelled is bad; a run refuses bad and maintenance, checks unknown when it can', () => {
  assert.equal(stateAfterCheck('passed'), 'good');
  assert.equal(stateAfterCheck('failed'), 'bad');
  assert.equal(stateAfterCheck('cancelled'), 'bad');
  assert.equal(runDecision(record('good'), true), 'run');
  assert.equal(runDecision(record('unknown'), true), 'check');
  assert.equal(runDecision(record('unknown'), false), 'run');
  assert.equal(runDecision(record('bad'), true), 'refuse');
  assert.equal(runDecision(record('bad'), false), 'refuse');
  assert.equal(runDecision(record('maintenance'), true), 'refuse');
});

test('refusal lines: the state, who set it, when, why, and the command that changes it', () => {
  assert.equal(refusalLine(record('bad', 'scenarios/health/echo-rig.yaml:23: plug echo: did not enumerate'), 'rigs/desk.yaml'),
    'rig "desk" is bad (set by dextbench rig check, ci@mini-3, at 2026-12-01T02:00:00.000Z): scenarios/health/echo-rig.yaml:23: plug echo: did not enumerate; ' +
    'once it is fixed: dextbench rig check --rig rigs/desk.yaml (or dextbench rig state good --why "…" --rig rigs/desk.yaml)');
  assert.equal(refusalLine({ ...record('maintenance', 'swapping the hub'), setBy: 'dextbench rig state' }, 'rigs/desk.yaml'),
    'rig "desk" is in maintenance (set by dextbench rig state, ci@mini-3, at 2026-12-01T02:00:00.000Z): swapping the hub; ' +
    'to put it back in service: dextbench rig state good --why "…" --rig rigs/desk.yaml');
});
