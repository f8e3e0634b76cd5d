// Bundles named by path in rig and scenario files (a .dext build, an app) live on the machine that
// runs dextbench. A Mac reached over ssh cannot read them there, so they are copied to it first:
// into the folder every user of the Mac shares, under a name made from their content, so a bundle
// is sent once however many scenarios and runs use it. A path that exists only on the Mac is used
// as it is (a dext built on the Mac under test).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { formatMs } from '../common/time.ts';
import type { RigSession } from './connect.ts';

const run = promisify(execFile);
const STAGE_TIMEOUT_MS = 120_000;
/** How long a second uploader waits for the first one to finish the same bundle. */
const WAIT_FOR_OTHER_S = 60;

export class StageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageError';
  }
}

/** Whether the rig's commands run on another machine than this one's files. */
function isRemote(session: RigSession): boolean {
  const host = session.definition.host;
  return host.kind === 'ssh' || (host.kind === 'sim' && host.ssh !== undefined);
}

// $1 stage folder, $2 content hash, $3 bundle name; the tar stream on stdin. The first uploader
// makes <hash>/ and writes it; others wait for its .complete mark (or find it already there).
const RECEIVE = `set -e
umask 000
mkdir -p "$1"
d="$1/$2"
if mkdir "$d" 2>/dev/null; then
  tar -xf - -C "$d" || { rm -rf "$d"; exit 1; }
  : > "$d/.complete"
  echo sent
  exit 0
fi
cat > /dev/null
i=0
while [ ! -e "$d/.complete" ]; do
  i=$((i + 1))
  [ $i -gt ${WAIT_FOR_OTHER_S * 10} ] && { echo "another upload of $3 to $d did not finish" >&2; exit 1; }
  sleep 0.1
done
echo present`;

/**
 * The path on the rig's host of a bundle given by its path here: the same path for a local or
 * simulated Mac, and a copy in the host's stage folder over ssh.
 */
export async function bundleOnHost(session: RigSession, path: string): Promise<{ path: string; sent: boolean }> {
  if (!isRemote(session) || !existsSync(path)) return { path, sent: false };
  const local = resolve(path);
  let tar: Buffer;
  try {
    // Plain tar options only: GNU tar here, bsdtar on a Mac controller.
    ({ stdout: tar } = await run('tar', ['-cf', '-', '-C', dirname(local), basename(local)], {
      encoding: 'buffer', maxBuffer: 1 << 30,
    }) as unknown as { stdout: Buffer });
  } catch (error) {
    throw new StageError(`cannot pack ${local} to send it to ${session.exec.where}: ${(error as Error).message.split('\n')[0]}`);
  }
  const hash = createHash('sha256').update(tar).digest('hex').slice(0, 16);
  const received = await session.exec.run(['/bin/sh', '-c', RECEIVE, 'receive', session.stageDir, hash, basename(local)], {
    stdin: tar, nothrow: true, timeoutMs: STAGE_TIMEOUT_MS,
  });
  if (!received.ok) {
    const why = received.timedOut ? `timed out after ${formatMs(STAGE_TIMEOUT_MS)}` : received.stderr.trim().split('\n').at(-1) ?? `exit ${received.exitCode}`;
    throw new StageError(`cannot copy ${basename(local)} to ${session.stageDir} on ${session.exec.where}: ${why}`);
  }
  return { path: `${session.stageDir}/${hash}/${basename(local)}`, sent: received.stdout.trim() === 'sent' };
}
