// Hands-on commands (`rig`, `sysext`) open a rig the way a run does (rig/open.ts): a simulated Mac
// is the one in .dextbench/sim/<rig> of the current project, so `rig plug`, `rig status` and a run
// all reach the same Mac, as on real hardware.
import { resolve } from 'node:path';
import { openRig as openRigFor, type OpenedRig } from '../rig/open.ts';
import { loadRig } from '../scenario/index.ts';

export async function openRig(rigFile: string, vars: Record<string, string>, who: string): Promise<OpenedRig> {
  const definition = loadRig(resolve(rigFile), { vars });
  return openRigFor(definition, { projectDir: process.cwd(), who: `${who} (pid ${process.pid})` });
}
