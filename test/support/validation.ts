// The problems a loader reports, as the `file:line:column: …` lines users see (paths relative to dir).
import assert from 'node:assert/strict';
import { formatIssue, ValidationError } from '../../harness/scenario/index.ts';

export function issueLines(load: () => unknown, dir: string): string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error.issues.map((i) => formatIssue(i, dir));
  }
  return assert.fail('expected a ValidationError');
}
