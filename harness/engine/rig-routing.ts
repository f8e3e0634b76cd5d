// A run with several rigs, one of them refused (bad or maintenance, or unknown and its check failed):
// its scenarios run on the run's good rigs of the same `class:` (interchangeable Macs), which they
// already run on when those have their devices. A scenario refused on a rig whose class has no
// other good rig in the run is refused there; the rest of the run goes on.
import type { RigDefinition } from '../rig/types.ts';

export interface Rerouting {
  /** By scenario file: the rigs it runs on, refused rigs left out. */
  runsOn: Record<string, string[]>;
  /** Each refused rig that had scenarios, and the good rigs of its class they run on instead. */
  movedTo: Map<string, string[]>;
  /** A scenario on a refused rig whose class has no good rig in the run: refused there. */
  unplaced: { file: string; rig: string }[];
}

export function routeAroundRefused(runsOn: Record<string, string[]>, rigs: RigDefinition[], refused: ReadonlySet<string>): Rerouting {
  const classOf = new Map(rigs.map((r) => [r.name, r.class]));
  const out: Rerouting = { runsOn: {}, movedTo: new Map(), unplaced: [] };
  for (const [file, names] of Object.entries(runsOn)) {
    const kept = names.filter((n) => !refused.has(n));
    out.runsOn[file] = kept;
    for (const rig of names.filter((n) => refused.has(n))) {
      const rigClass = classOf.get(rig);
      const mates = rigClass === undefined ? [] : kept.filter((n) => classOf.get(n) === rigClass);
      if (mates.length === 0) {
        out.unplaced.push({ file, rig });
        continue;
      }
      out.movedTo.set(rig, [...new Set([...(out.movedTo.get(rig) ?? []), ...mates])]);
    }
  }
  return out;
}
