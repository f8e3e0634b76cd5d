import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { formatIssue, ValidationError } from '../../../harness/scenario/index.ts';

export const fixtures = resolve(import.meta.dirname, '../../fixtures/yaml');
export const fixture = (path: string) => join(fixtures, path);

/** The formatted issue lines a loader throws, with file names relative to the fixtures folder. */
export function issueLines(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.message, error.issues.map((i) => formatIssue(i)).join('\n'));
    return error.issues.map((i) => formatIssue(i, fixtures));
  }
  assert.fail('expected the loader to throw a ValidationError');
}
