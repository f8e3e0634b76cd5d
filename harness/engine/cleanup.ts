// Teardown actions, last in first out. Every action runs even when an earlier one fails; the
// failures are returned, each with the YAML step it belongs to, so the test can report them all
// at the scenario's own lines.
import type { SourceLocation } from '../scenario/index.ts';
import type { CleanupStack } from '../steps/index.ts';

interface CleanupAction {
  title: string;
  action: () => Promise<void>;
  location?: SourceLocation;
}

export interface CleanupFailure {
  title: string;
  error: unknown;
  /** The cleanup step, or the step that registered the action. */
  location?: SourceLocation;
}

export class CleanupStackImpl implements CleanupStack {
  private readonly actions: CleanupAction[] = [];

  push(title: string, action: () => Promise<void>, location?: SourceLocation): void {
    this.actions.push(location ? { title, action, location } : { title, action });
  }

  async runAll(): Promise<CleanupFailure[]> {
    const failures: CleanupFailure[] = [];
    while (this.actions.length > 0) {
      const { title, action, location } = this.actions.pop()!;
      try {
        await action();
      } catch (error) {
        failures.push(location ? { title, error, location } : { title, error });
      }
    }
    return failures;
  }
}
