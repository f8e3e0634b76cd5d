// `dextbench doctor [--rig rigs/x.yaml] [--json]`: one line per check of the rig's Mac, like a test
// runner; the exit code is the number of failing checks. It reads only: no lease, no state changed.
import { relative, resolve } from 'node:path';
import { TransportError } from '../host/exec.ts';
import { runDoctor, unreachableChecks, type CheckStatus, type DoctorCheck } from '../rig/doctor.ts';
import { openRig as openRigFor } from '../rig/open.ts';
import type { RigDefinition } from '../rig/types.ts';
import { loadRig } from '../scenario/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { defaultRigFile } from './paths.ts';

const USAGE = 'usage: dextbench doctor [--rig rigs/x.yaml] [--json]';
const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✘' };
/** Exit codes above this mean a signal or the shell's own failures. */
const MAX_EXIT = 125;

export async function doctorCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var'], flags: ['--json'], strict: true });
  if (args.positionals.length) throw new UsageError(USAGE);
  const rigFile = resolve(args.options.get('--rig')?.at(-1) ?? defaultRigFile());
  const definition = loadRig(rigFile, { vars: parseVars(args.options.get('--var') ?? []) });
  const options = { rigArg: `--rig ${relative(process.cwd(), rigFile) || rigFile}` };

  let host: string;
  let checks: DoctorCheck[];
  try {
    const { session, close } = await openRigFor(definition, { projectDir: process.cwd(), who: `dextbench doctor (pid ${process.pid})` });
    try {
      host = session.exec.where;
      checks = await runDoctor(session, options);
    } finally {
      await close();
    }
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    host = describeHost(definition);
    checks = unreachableChecks(definition, error, options);
  }

  if (args.flags.has('--json')) {
    console.log(JSON.stringify({ rig: definition.name, host, checks }, null, 2));
  } else {
    console.log(`doctor: rig ${definition.name} (${relative(process.cwd(), definition.file) || definition.file}) on ${host}`);
    for (const check of checks) {
      console.log(`${MARK[check.status]} ${check.name}: ${check.detail}${check.fix ? ` → ${check.fix}` : ''}`);
    }
    const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
    console.log(`${count('ok')} ok, ${count('warn')} warning${count('warn') === 1 ? '' : 's'}, ${count('fail')} failing`);
  }
  return Math.min(checks.filter((c) => c.status === 'fail').length, MAX_EXIT);
}

function describeHost(rig: RigDefinition): string {
  if (rig.host.kind === 'local') return 'this Mac';
  return rig.host.ssh ? `ssh ${rig.host.ssh.ssh}` : `simulated Mac "${rig.name}"`;
}
