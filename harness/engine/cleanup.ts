// Teardown actions, last in first out. Every action runs even when an earlier one fails; the
// failures are returned so the test can report them without losing any.
import type { CleanupStack } from '../steps/index.ts';

interface CleanupAction {
  title: string;
  action: () => Promise<void>;
}

export class CleanupStackImpl implements CleanupStack {
  private readonly actions: CleanupAction[] = [];

  push(title: string, action: () => Promise<void>): void {
    this.actions.push({ title, action });
  }

  async runAll(): Promise<{ title: string; error: unknown }[]> {
    const failures: { title: string; error: unknown }[] = [];
    while (this.actions.length > 0) {
      const { title, action } = this.actions.pop()!;
      try {
        await action();
      } catch (error) {
        failures.push({ title, error });
      }
    }
    return failures;
  }
}
