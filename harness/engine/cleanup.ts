// Teardown actions, last in first out. Every action runs even when an earlier one fails; the
// failures are returned, each with the YAML step it belongs to, so the test can report them all
// at the scenario's own lines. A hold (--hold) runs only the releases (CleanupStack.release): the
// harness lets go of its streams, processes and handles, and the rig stays as it is.
import type { SourceLocation } from '../scenario/index.ts';

interface CleanupAction {
  title: string;
  action: () => Promise<void>;
  location?: SourceLocation;
  release: boolean;
}

export interface CleanupFailure {
  title: string;
  error: unknown;
  /** The cleanup step, or the step that registered the action. */
  location?: SourceLocation;
}

/** The scene's stack; each action keeps the YAML step that registered it (step-runner.ts). */
export class CleanupStackImpl {
  private readonly actions: CleanupAction[] = [];

  push(title: string, action: () => Promise<void>, location?: SourceLocation): void {
    this.actions.push({ title, action, release: false, ...(location ? { location } : {}) });
  }

  release(title: string, action: () => Promise<void>, location?: SourceLocation): void {
    this.actions.push({ title, action, release: true, ...(location ? { location } : {}) });
  }

  async runAll(): Promise<CleanupFailure[]> {
    return this.run(this.actions.splice(0));
  }

  /** Only the releases, taken off the stack; the rest stays and never runs under a hold. */
  async runReleases(): Promise<CleanupFailure[]> {
    const releases = this.actions.filter((a) => a.release);
    this.actions.splice(0, this.actions.length, ...this.actions.filter((a) => !a.release));
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
