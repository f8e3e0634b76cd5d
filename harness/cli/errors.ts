// The CLI's one rule for errors: one clear line per problem, never a stack trace
// (DEXTBENCH_DEBUG=1 shows it, for people debugging dextbench itself).

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function reportError(error: unknown): number {
  if (process.env.DEXTBENCH_DEBUG && error instanceof Error) console.error(error.stack);
  const message = error instanceof Error ? error.message : String(error);
  // Validation issues are already `file:line:col: …` lines; keep them clickable.
  const located = error instanceof Error && 'issues' in error;
  for (const line of message.split('\n')) console.error(located ? line : `dextbench: ${line}`);
  return error instanceof UsageError ? 2 : 1;
}

/** Problems found in files, each already a `file:line:col: …` line. */
export class FileIssues extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('\n'));
    this.name = 'FileIssues';
  }
}
