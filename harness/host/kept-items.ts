// What a long-running tool (`log stream`, `eslogger`) has printed so far, kept as parsed items:
// bounded (the oldest go first), listened to, and waited on with a deadline that also ends when
// the tool does.
import type { ExecRecord } from './exec.ts';

export interface KeptWaitOptions {
  timeoutMs: number;
  /** Look among the items already kept first (default); false waits for the next ones only. */
  includePast?: boolean;
  /** The error when the deadline passes. */
  timedOut(): Error;
  /** The error when the tool ends first. */
  ended(record: ExecRecord): Error;
}

export class KeptItems<T> {
  private readonly items: T[] = [];
  private readonly listeners = new Set<(item: T) => void>();
  private readonly endListeners = new Set<(record: ExecRecord) => void>();
  private endRecord: ExecRecord | undefined;

  constructor(private readonly max: number) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length > this.max) this.items.splice(0, this.items.length - this.max);
    for (const listener of this.listeners) listener(item);
  }

  /** The tool ended: waits still open reject; later ones reject at once. */
  end(record: ExecRecord): void {
    this.endRecord = record;
    for (const listener of this.endListeners) listener(record);
  }

  /** How the tool ended, once it did. */
  get ended(): ExecRecord | undefined {
    return this.endRecord;
  }

  /** Kept so far, oldest first (a copy). */
  all(): T[] {
    return [...this.items];
  }

  get size(): number {
    return this.items.length;
  }

  onItem(listener: (item: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first item `predicate` accepts: among those kept (unless includePast is false), else the next to arrive. */
  waitFor(predicate: (item: T) => boolean, options: KeptWaitOptions): Promise<T> {
    if (options.includePast !== false) {
      const seen = this.items.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(onItem);
        this.endListeners.delete(onEnd);
      };
      const onItem = (item: T): void => {
        if (!predicate(item)) return;
        done();
        resolve(item);
      };
      const onEnd = (record: ExecRecord): void => {
        done();
        reject(options.ended(record));
      };
      const timer = setTimeout(() => {
        done();
        reject(options.timedOut());
      }, options.timeoutMs);
      this.listeners.add(onItem);
      if (this.endRecord) onEnd(this.endRecord);
      else this.endListeners.add(onEnd);
    });
  }
}
