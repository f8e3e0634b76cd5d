// How provision runs make for the bridge: nanopb.mk finds Homebrew's nanopb (and the generator and
// protoc it runs) itself when brew is on the Mac's PATH; when brew was found at its installer's place
// instead, Homebrew's bin goes first on make's PATH, ahead of the Mac's own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCommand } from '../../../harness/provision/bridge.ts';

const MAC_PATH = '/usr/bin:/bin:/usr/sbin:/sbin';

test('brew on PATH: plain make; brew off PATH: make with Homebrew\'s bin first on PATH', () => {
  assert.deepEqual(makeCommand({ brew: 'brew', prefix: '/opt/homebrew' }, MAC_PATH), ['make']);
  assert.deepEqual(makeCommand({ brew: '/opt/homebrew/bin/brew', prefix: '/opt/homebrew' }, MAC_PATH),
    ['env', 'PATH=/opt/homebrew/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'make']);
  assert.deepEqual(makeCommand({ brew: '/usr/local/bin/brew', prefix: '/usr/local' }, ''), ['env', 'PATH=/usr/local/bin', 'make']);
});
