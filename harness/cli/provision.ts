// `dextbench provision [--rig rigs/x.yaml] [--dry-run]`: brings the rig's Mac to what doctor wants.
// A real run holds the rig's lease (it changes the Mac); a dry run only reads. sudo's password, when
// sudo needs one, comes from DEXTBENCH_SUDO_PASSWORD or is asked for once on the terminal, unechoed.
import { relative, resolve } from 'node:path';
import { reserveRig } from '../rig/open.ts';
import { provisionMac } from '../provision/index.ts';
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { openRig } from './open-rig.ts';
import { defaultRigFile } from './paths.ts';

const USAGE = 'usage: dextbench provision [--rig rigs/x.yaml] [--dry-run]';
const PASSWORD_ENV = 'DEXTBENCH_SUDO_PASSWORD';
/** sudo's own passwd_timeout: 5 minutes to type it. */
const PASSWORD_TIMEOUT_MS = 5 * 60_000;

export async function provisionCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var'], flags: ['--dry-run'], strict: true });
  if (args.positionals.length) throw new UsageError(USAGE);
  const rigFile = resolve(args.options.get('--rig')?.at(-1) ?? defaultRigFile());
  const dryRun = args.flags.has('--dry-run');
  const { session, close } = await openRig(rigFile, parseVars(args.options.get('--var') ?? []), 'dextbench provision');
  try {
    const rigName = relative(process.cwd(), rigFile) || rigFile;
    console.log(`provision${dryRun ? ' (dry run: nothing is changed)' : ''}: rig ${session.definition.name} (${rigName}) on ${session.exec.where}`);
    const lease = dryRun ? undefined : await reserveRig(session, { owner: 'dextbench provision', waitMs: 0 });
    try {
      // A step that fails throws ProvisionStopped: one line naming the step and the fix, exit 1.
      await provisionMac(session, {
        dryRun,
        rigArg: `--rig ${rigName}`,
        password: () => sudoPassword(session.exec.where),
        passwordHint: `run dextbench provision in a terminal (it asks once), or set ${PASSWORD_ENV}`,
        print: (line) => console.log(line),
      });
    } finally {
      await lease?.release();
    }
    return 0;
  } finally {
    await close();
  }
}

async function sudoPassword(where: string): Promise<string | undefined> {
  const given = process.env[PASSWORD_ENV];
  if (given) return given;
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return readUnechoed(`sudo password of an admin on ${where} (asked once, not echoed): `, PASSWORD_TIMEOUT_MS);
}

/** One line typed on the terminal, not echoed; Ctrl-C stops the command (exit 130), no answer in time is none. */
function readUnechoed(prompt: string, timeoutMs: number): Promise<string | undefined> {
  const stdin = process.stdin;
  return new Promise((resolvePassword) => {
    let typed = '';
    const finish = (value: string | undefined): void => {
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolvePassword(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { finish(typed); return; }
        if (ch === '\u0003') { finish(undefined); process.exit(130); }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    // Echo goes off before the prompt shows: whatever is typed once it is visible stays unseen.
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
    process.stderr.write(prompt);
  });
}
