// The JSON Schemas editors use (scenarios/, rigs/ and devices/schema.json), checked with an
// independent validator (ajv, draft 2020-12): every shipped file passes, a misspelt key or an
// unknown step kind does not, and the schema takes a `${…}` exactly where the loader does.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse, stringify } from 'yaml';
import { loadRig, loadScenario } from '../../../harness/scenario/index.ts';
import { stepRegistry } from '../../../harness/steps/index.ts';

const root = resolve(import.meta.dirname, '../../..');
const FOLDERS = ['scenarios', 'rigs', 'devices'] as const;
type Folder = (typeof FOLDERS)[number];

// Strict: a keyword ajv does not know is an error, not ignored. `type: [string, number]` is valid 2020-12.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const validators = Object.fromEntries(FOLDERS.map((folder) =>
  [folder, ajv.compile(JSON.parse(readFileSync(join(root, folder, 'schema.json'), 'utf8')) as object)])) as Record<Folder, ValidateFunction>;

/** undefined when `doc` passes; else the deepest errors (a step's oneOf reports every kind it is not). */
function problems(folder: Folder, doc: unknown): string | undefined {
  const validate = validators[folder];
  if (validate(doc)) return undefined;
  const errors = validate.errors ?? [];
  const depth = Math.max(...errors.map((e) => e.instancePath.split('/').length));
  const deepest = errors.filter((e) => e.instancePath.split('/').length === depth);
  return [...new Set(deepest.map((e) => `${e.instancePath || '(document)'} ${e.message}`))].join('; ');
}

/** Every YAML file under the folder, found afresh each run: a new scenario or rig is checked too. */
function shipped(folder: Folder): string[] {
  return (readdirSync(join(root, folder), { recursive: true }) as string[])
    .filter((p) => /\.ya?ml$/.test(p)).sort().map((p) => join(root, folder, p));
}

const hotplug = () => parse(readFileSync(join(root, 'scenarios/driverkit/echo-hotplug.yaml'), 'utf8')) as Record<string, unknown>;

for (const folder of FOLDERS) {
  test(`every shipped file under ${folder}/ passes ${folder}/schema.json, the schema its modeline names`, () => {
    const files = shipped(folder);
    assert.ok(files.length > 0, `no YAML under ${folder}/`);
    const failures: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      if (!modeline) failures.push(`${file}: no "# yaml-language-server: $schema=" line`);
      else if (resolve(dirname(file), modeline[1]!) !== join(root, folder, 'schema.json')) failures.push(`${file}: its modeline names ${modeline[1]}`);
      const rejected = problems(folder, parse(text));
      if (rejected) failures.push(`${file}: ${rejected}`);
    }
    assert.equal(failures.join('\n'), '');
  });
}

test('the schemas reject a misspelt key and an unknown step kind', () => {
  assert.equal(problems('scenarios', hotplug()), undefined, 'the unaltered scenario passes');
  const { steps, ...rest } = hotplug();
  assert.match(problems('scenarios', { ...rest, stesp: steps }) ?? '', /must NOT have additional properties/);

  const plgu = hotplug();
  (plgu.steps as unknown[])[0] = { plgu: 'echo' };
  assert.ok(problems('scenarios', plgu), 'unknown step kind plgu');

  const userClas = hotplug();
  (userClas.steps as unknown[])[1] = { 'expect.matched': { device: 'echo', userClas: 'EchoDriver', within: '5s' } };
  assert.ok(problems('scenarios', userClas), 'misspelt argument userClas');

  const rig = parse(readFileSync(join(root, 'rigs/sim.yaml'), 'utf8')) as Record<string, unknown>;
  assert.ok(problems('rigs', { ...rig, hubz: rig['hubs'] }), 'rig key hubz');
  const device = parse(readFileSync(join(root, 'devices/echo.yaml'), 'utf8')) as Record<string, unknown>;
  assert.ok(problems('devices', { ...device, interface: device['interfaces'] }), 'device key interface');
});

// ------------------------------------------------- `${…}`: the schema agrees with the loader

const scratch = mkdtempSync(join(tmpdir(), 'dextbench-schema-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function loaderAccepts(kind: 'scenario' | 'rig', doc: unknown): boolean {
  const file = join(scratch, `${kind}.yaml`);
  writeFileSync(file, stringify(doc));
  try {
    if (kind === 'scenario') loadScenario(file, { steps: stepRegistry, env: {} });
    else loadRig(file, { env: {} });
    return true;
  } catch {
    return false;
  }
}

/** A scenario with variables T (a duration) and N, a step stored as `m`, then `step`; `top` merges over the document. */
function scenario(step: Record<string, unknown>, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'templates', vars: { T: '2s', N: 5 }, uses: { devices: ['echo'] },
    steps: [{ 'expect.matched': 'echo', as: 'm' }, step], ...top,
  };
}

function rig(hub: Record<string, unknown>, sim: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'templates', host: 'sim', sim, vars: { P: 4, S: 'c' },
    hubs: [{ id: 'hub1', driver: 'uhubctl', location: '1-1', ports: 4, ...hub }],
    devices: { echo: { profile: join(root, 'devices/echo.yaml'), port: { hub: 'hub1', port: 2 } } },
  };
}

const CASES: Array<{ what: string; kind: 'scenario' | 'rig'; doc: unknown; ok: boolean }> = [
  { what: 'a result as a number (measure.value)', kind: 'scenario', doc: scenario({ measure: { name: 'waited', value: '${m.waitedMs}' } }), ok: true },
  { what: 'a result as a pid (expect.relaunched.previousPid)', kind: 'scenario', doc: scenario({ 'expect.relaunched': { device: 'echo', previousPid: '${m.pid}' } }), ok: true },
  { what: 'a result as a boolean (sysext.developer)', kind: 'scenario', doc: scenario({ 'sysext.developer': '${m.on}' }), ok: true },
  { what: 'a result as a whole map (io.await.expect)', kind: 'scenario', doc: scenario({ 'io.await': { name: 'x', expect: '${m.expect}' } }), ok: true },
  { what: 'a variable as a step\'s duration (wait)', kind: 'scenario', doc: scenario({ wait: '${T}' }), ok: true },
  { what: 'a variable as a common key (timeout)', kind: 'scenario', doc: scenario({ wait: '1s', timeout: '${T}' }), ok: true },
  { what: 'a variable as the scenario\'s timeout', kind: 'scenario', doc: scenario({ wait: '1s' }, { timeout: '${T}' }), ok: true },
  { what: 'plain text as a number', kind: 'scenario', doc: scenario({ measure: { name: 'waited', value: 'fast' } }), ok: false },
  { what: 'a duration without its unit', kind: 'scenario', doc: scenario({ wait: '5 sec' }), ok: false },
  { what: 'a literal $${T} as a duration', kind: 'scenario', doc: scenario({ wait: '1s' }, { timeout: '$${T}' }), ok: false },
  { what: 'a result outside step arguments (common timeout)', kind: 'scenario', doc: scenario({ wait: '1s', timeout: '${m.waitedMs}' }), ok: false },
  { what: 'a result outside steps (scenario timeout)', kind: 'scenario', doc: scenario({ wait: '1s' }, { timeout: '${m.t}' }), ok: false },
  { what: 'a variable as a rig\'s string choice (sim.dextServer)', kind: 'rig', doc: rig({}, { dextServer: '${S}' }), ok: true },
  { what: 'a variable as a rig\'s number (it stays text)', kind: 'rig', doc: rig({ ports: '${P}' }), ok: false },
  { what: 'a result reference in a rig (hub driver)', kind: 'rig', doc: rig({ driver: '${m.driver}' }), ok: false },
];

for (const c of CASES) {
  test(`\${…} where the loader takes it: ${c.what} is ${c.ok ? 'accepted' : 'rejected'} by both`, () => {
    assert.equal(loaderAccepts(c.kind, c.doc), c.ok, 'the loader');
    const verdict = problems(c.kind === 'scenario' ? 'scenarios' : 'rigs', c.doc);
    assert.equal(verdict === undefined, c.ok, `the JSON Schema${verdict ? `: ${verdict}` : ''}`);
  });
}
