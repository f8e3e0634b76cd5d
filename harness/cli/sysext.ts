// `dextbench sysext list [--json] [--rig rigs/x.yaml]`
import { parseArgs, parseVars } from './args.ts';
import { UsageError } from './errors.ts';
import { openRig } from './open-rig.ts';
import { defaultRigFile } from './paths.ts';

export async function sysextCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { valued: ['--rig', '--var'], flags: ['--json'], strict: true });
  if (args.positionals[0] !== 'list' || args.positionals.length > 1) {
    throw new UsageError('usage: dextbench sysext list [--json] [--rig rigs/x.yaml]');
  }
  const { session, close } = await openRig(args.options.get('--rig')?.at(-1) ?? defaultRigFile(), parseVars(args.options.get('--var') ?? []), 'dextbench sysext list');
  try {
    const { list } = await session.tools.sysext.list();
    if (args.flags.has('--json')) {
      console.log(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.extensions.length === 0) console.log('no system extensions');
    for (const r of list.extensions) {
      const flags = `${r.enabled ? '*' : ' '}${r.active ? '*' : ' '}`;
      console.log(`${flags} ${r.teamId.padEnd(10)} ${r.bundleId} (${r.shortVersion}/${r.bundleVersion})  [${r.state}]`);
    }
    if (!list.complete) console.log('(the listing was cut short: systemextensionsctl stopped early)');
    return 0;
  } finally {
    await close();
  }
}
