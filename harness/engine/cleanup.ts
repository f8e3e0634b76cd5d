// Teardown actions, last in first out. Every action runs even when an earlier one fails; the
// failures are returned, each with the YAML step it belongs to, so the test can report them all
// at the scenario's own lines. A hold (--hold) runs only the releases (steps/context.ts releasing):
// the harness lets go of its streams, processes and handles, and the rig stays as it is.
import type { SourceLocation } from '../scenario/index.ts';
import { isRelease, type CleanupStack } from '../steps/index.ts';

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
    return this.run(this.actions.splice(0));
  }

  /** Only the releases, taken off the stack; the rest stays and never runs under a hold. */
  async runReleases(): Promise<CleanupFailure[]> {
    const releases = this.actions.filter((a) => isRelease(a.action));
    this.actions.splice(0, this.actions.length, ...this.actions.filter((a) => !isRelease(a.action)));
    return this.run(releases);
  }

  private async run(actions: CleanupAction[]): Promise<CleanupFailure[]> {
    const failures: CleanupFailure[] = [];
    while (actions.length > 0) {
      const { title, action, location } = actions.pop()!;
      try {
        await action();
      } catch (error) {
        failures.push(location ? { title, error, location } : { title, error });
      }
    }
    return failures;
  }
}
