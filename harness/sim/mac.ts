// One simulated Mac: configuration, persisted state, the registry, the log, and delayed transitions.
// Transitions are level-triggered: after every change `settle()` looks at the state and schedules
// what must follow (a powered port's device enumerates, an unserved provider gets matched). That is
// also how a restarted daemon resumes: the same look at the loaded state reschedules the rest.
import { dirname } from 'node:path';
import type { SimConfig } from './config.ts';
import { reconcileExtensionProcesses } from './extension-processes.ts';
import { LogStore } from './log.ts';
import { reconcileMatching } from './matching.ts';
import { Registry } from './registry.ts';
import { saveState, type SimState } from './state.ts';
import { buildBaseTree, reconcileUsb } from './usb.ts';

export class Mac {
  readonly registry: Registry;
  readonly log: LogStore;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly dextWatchers = new Map<number, Set<() => void>>();
  private stopped = false;

  constructor(readonly config: SimConfig, readonly state: SimState, private readonly statePath: string) {
    this.registry = new Registry(state);
    this.log = new LogStore(state);
  }

  /** The Mac's state dir: its disk (fs/, see disk.ts) lives here too. */
  get stateDir(): string {
    return dirname(this.statePath);
  }

  boot(): void {
    if (!this.registry.get('0x100000100')) buildBaseTree(this);
    this.settle();
  }

  /** Run `fn` after `ms` unless a transition with the same key is already pending. */
  schedule(key: string, ms: number, fn: () => void): void {
    if (this.stopped || this.timers.has(key)) return;
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      if (this.stopped) return;
      fn();
      this.settle();
    }, ms));
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t) { clearTimeout(t); this.timers.delete(key); }
  }

  cancelPrefix(prefix: string): void {
    for (const key of [...this.timers.keys()]) if (key.startsWith(prefix)) this.cancel(key);
  }

  /** Schedule whatever the current state implies, then persist it. Call after every change. */
  settle(): void {
    if (this.stopped) return;
    reconcileUsb(this);
    reconcileMatching(this);
    reconcileExtensionProcesses(this);
    saveState(this.statePath, this.state);
  }

  /** Call `fn` once when the dext process `pid` stops (crash, unplug, uninstall, reboot); returns an unwatch. */
  watchDext(pid: number, fn: () => void): () => void {
    let set = this.dextWatchers.get(pid);
    if (!set) this.dextWatchers.set(pid, set = new Set());
    set.add(fn);
    return () => { set.delete(fn); };
  }

  dextStopped(pid: number): void {
    const set = this.dextWatchers.get(pid);
    this.dextWatchers.delete(pid);
    for (const fn of set ?? []) fn();
  }

  allocPid(): number {
    const pid = this.state.nextPid;
    this.state.nextPid += 1 + (pid % 7);
    return pid;
  }

  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    saveState(this.statePath, this.state);
  }
}
