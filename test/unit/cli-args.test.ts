import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, parseVars } from '../../harness/cli/args.ts';

test('our options are taken out; Playwright options pass through in order with their values', () => {
  const parsed = parseArgs(
    ['scenarios/a.yaml', '--rig', 'rigs/x.yaml', '--grep', 'hotplug', '--var=A=1', '--last-failed', '--shard', '1/2', 'scenarios/b', '--retries=2'],
    { valued: ['--rig', '--var'], passthroughValued: ['--grep', '--shard'] },
  );
  assert.deepEqual(parsed.positionals, ['scenarios/a.yaml', 'scenarios/b']);
  assert.deepEqual(parsed.options.get('--rig'), ['rigs/x.yaml']);
  assert.deepEqual(parsed.options.get('--var'), ['A=1']);
  assert.deepEqual(parsed.passthrough, ['--grep', 'hotplug', '--last-failed', '--shard', '1/2', '--retries=2']);
});

test('strict commands reject unknown options with the list of known ones', () => {
  assert.throws(() => parseArgs(['--jsn'], { valued: ['--rig'], flags: ['--json'], strict: true }), /unknown option --jsn \(options: --rig, --json\)/);
  assert.throws(() => parseArgs(['--rig'], { valued: ['--rig'] }), /--rig needs a value/);
});

test('--var NAME=value keeps everything after the first =', () => {
  assert.deepEqual(parseVars(['A=1', 'URL=http://x/?a=b']), { A: '1', URL: 'http://x/?a=b' });
  assert.throws(() => parseVars(['novalue']), /--var expects NAME=value, got "novalue"/);
  assert.throws(() => parseVars(['1A=x']), /not a variable name/);
});
