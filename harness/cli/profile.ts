// `dextbench profile --team ID [--dext B…] [--es B…] [--ne-filter B…] [--removable] -o rig.mobileconfig`:
// the configuration profile that lets an unattended rig activate, and deactivate, its extensions
// without a click.
import { writeFileSync } from 'node:fs';
import { buildMobileconfig, NEEDS_MDM, ProfileInputError, type ProfileRequest } from '../profile/mobileconfig.ts';
import { parseArgs } from './args.ts';
import { UsageError } from './errors.ts';

const USAGE = 'usage: dextbench profile --team ID [--dext BUNDLE] [--es BUNDLE] [--ne-filter BUNDLE] [--removable] ' +
  '[--name TEXT] [--identifier ID] [--code-requirement BUNDLE=REQ] [--filter-app FILTER=APP] [--manual-only] -o FILE ' +
  '(repeat an option for each bundle)';

const HELP = `${USAGE}

  --team ID                   the team that signs the extensions (10 upper-case letters and digits)
  --dext / --es / --ne-filter the bundle id of a DriverKit, Endpoint Security or content-filter extension
  --removable                 also list them under RemovableSystemExtensions (macOS 12+), so that
                              cleanup deactivates them without an admin prompt
  --name TEXT                 the profile's display name
  --identifier ID             the profile's PayloadIdentifier (default dextbench.rig.<team>); a profile
                              with the same identifier replaces the installed one
  --code-requirement B=REQ    the designated requirement of an --es or --ne-filter bundle (codesign -d -r-);
                              default: identifier "B" and anchor apple generic and certificate leaf[subject.OU] = "<team>"
  --filter-app FILTER=APP     the app that contains a filter (default: the filter's id minus its last part)
  --manual-only               only the content-filter payloads, the ones a person may install by hand
  -o FILE                     where to write the profile

With no bundle, every extension of the team is allowed (AllowedTeamIdentifiers). The
system-extension-policy and TCC payloads install only through MDM (user-approved, device channel).`;

export async function profileCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    valued: ['--team', '--dext', '--es', '--ne-filter', '--name', '--identifier', '--code-requirement', '--filter-app', '-o', '--output'],
    flags: ['--removable', '--manual-only', '--help', '-h'],
    strict: true,
  });
  if (args.flags.has('--help') || args.flags.has('-h')) {
    console.log(HELP);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(args.positionals[0])}; ${USAGE}`);
  const team = single(args.options, '--team');
  const output = single(args.options, '-o') ?? single(args.options, '--output');
  if (team === undefined) throw new UsageError(`--team is required; ${USAGE}`);
  if (output === undefined) throw new UsageError(`-o FILE is required; ${USAGE}`);
  const request: ProfileRequest = {
    team,
    dexts: args.options.get('--dext') ?? [],
    es: args.options.get('--es') ?? [],
    neFilters: args.options.get('--ne-filter') ?? [],
    removable: args.flags.has('--removable'),
    manualOnly: args.flags.has('--manual-only'),
    codeRequirements: pairs(args.options.get('--code-requirement') ?? [], '--code-requirement', 'BUNDLE=REQUIREMENT'),
    filterApps: pairs(args.options.get('--filter-app') ?? [], '--filter-app', 'FILTER=APP_BUNDLE_ID'),
  };
  const name = single(args.options, '--name');
  if (name !== undefined) request.name = name;
  const identifier = single(args.options, '--identifier');
  if (identifier !== undefined) request.identifier = identifier;

  let profile;
  try {
    profile = buildMobileconfig(request);
  } catch (error) {
    if (error instanceof ProfileInputError) throw new UsageError(error.message);
    throw error;
  }
  try {
    writeFileSync(output, profile.xml);
  } catch (error) {
    throw new Error(`cannot write the profile: ${(error as Error).message}`);
  }
  console.log(summary(output, request, profile.payloadTypes));
  return 0;
}

/** One line: what was written, and how it can reach the Mac. */
function summary(output: string, request: ProfileRequest, types: string[]): string {
  const bundles = new Set([...request.dexts, ...request.es, ...request.neFilters]).size;
  const scope = bundles === 0 ? 'every extension of the team' : `${bundles} extension${bundles === 1 ? '' : 's'}${request.removable ? ', removable' : ''}`;
  const counted = (list: string[]) => [...new Set(list)].map((t) => {
    const n = list.filter((x) => x === t).length;
    return n > 1 ? `${t} ×${n}` : t;
  });
  const mdm = [...new Set(types.filter((t) => NEEDS_MDM[t]))];
  const manual = [...new Set(types.filter((t) => !NEEDS_MDM[t]))];
  const wrote = `wrote ${output} (team ${request.team}, ${scope}): ${counted(types).join(', ')}`;
  if (mdm.length === 0) return `${wrote}; no payload needs MDM: install it with a double-click (then approve it in System Settings) or profiles install`;
  const needs = `needs MDM: ${mdm.join(' and ')} cannot be installed by hand, so deliver the profile through MDM (user-approved, device channel)`;
  if (manual.length === 0) return `${wrote}; ${needs}`;
  return `${wrote}; ${needs}; ${manual.join(' and ')} alone can be: write it with --manual-only for profiles install or a double-click`;
}

function single(options: Map<string, string[]>, name: string): string | undefined {
  const values = options.get(name);
  if (values && values.length > 1) throw new UsageError(`${name} is given ${values.length} times; give it once`);
  return values?.[0];
}

/** `KEY=VALUE` pairs, by key; the value may hold `=` (requirements do). */
function pairs(values: string[], option: string, shape: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${option} expects ${shape}, got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new UsageError(`${option} is given twice for ${key}`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
}
