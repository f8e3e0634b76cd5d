// dextbench: run scenarios, validate files, control a rig by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportError, UsageError } from './errors.ts';
import { packageRoot } from './paths.ts';

const USAGE = `usage: dextbench <command> [options]

  run [files|folders] [--rig rigs/x.yaml ...] [--var NAME=value ...] [--output dir] [Playwright options]
        run scenarios (default: scenarios/ on rigs/sim.yaml, the simulated Mac); --output gives
        the run its own folder for reports and test-results (default ./dextbench-report and
        ./test-results); an unknown rig is health-checked first; a bad or maintenance rig is refused
        (among several rigs, its scenarios run on the good rigs of its class: instead);
        --infra-retries N (default 2) reruns infrastructure failures on another good rig of the
        same class: (else the same rig once its health check passed); Playwright's
        --grep, --repeat-each, --retries, --reporter list,html,junit,json,blob, --shard,
        --last-failed, --workers ... pass through; --hold [--hold-for 4h]: a failing scenario's
        rig is kept as the failure left it (no cleanup), held for you (see rig release);
        --history dir|postgres://…|off: where the run is appended (default .dextbench/history,
        or DEXTBENCH_HISTORY)
  repro <bundle> [--rig r] [--repeat-until-fail N] [--hold [--hold-for 4h]] [--output dir]
        rerun a failed scenario from its repro bundle (test-results/…/repro), saying where the
        rig differs from the bundle's manifest (default output ./dextbench-repro)
  history [--scenario name] [--rig r] [--json] [--history postgres://…|folder|off]
        per scenario × rig: pass rate over the last 30 runs, flake score, last failure; per
        measurement its series and a regression flag (every run is appended when it ends; default
        store .dextbench/history, or DEXTBENCH_HISTORY)
  history import <results.json|blob folder>
        add a CI run's report to the history
  history quarantine [<scenario> --owner who --until YYYY-MM-DD [--why "…"] | <scenario> --remove]
        a quarantined scenario still runs and is reported, but its failure does not fail the run
  report [<results.json|run folder>] [--history [postgres://…|folder]] [-o report.html]
        one self-contained HTML file of a run: scenarios by class, each one's timeline, and with
        --history the pass-rate grid by night and measurement trends (default ./dextbench-report)
  validate [files|folders] [--rig r] [--var NAME=value]
        check scenarios, rigs and device profiles (default: scenarios/ rigs/ devices/)
  rig status|plug|unplug|cycle|reset [device] [--rig r] [--off 1s]
        hands-on control of a rig's devices; reset forgets a simulated Mac's state
  rig check [--refuse-bad] [--rig r]
        run the rig's health check (its health: scenario), holding its lease: good or bad;
        --refuse-bad (a nightly's first step): a bad or maintenance rig is refused, not checked
  rig state good|maintenance --why "…" [--rig r]
        set the rig's health by hand; every user of the Mac sees it (rig status)
  rig release [--rig r]
        end a --hold: free the rig and switch its device ports off
  sysext list [--json] [--rig r]
        the rig host's system extensions
  doctor [--rig r] [--json]
        check that the rig's Mac is ready, one line per check with its fix; exit code: the failing count
  provision [--rig r] [--dry-run]
        bring the rig's Mac to what doctor wants (command line tools, uhubctl, sudoers, activator,
        developer mode); a second run changes nothing; --dry-run prints the commands it would run
  profile --team ID [--dext B] [--es B] [--ne-filter B] [--removable] -o rig.mobileconfig
        the configuration profile that pre-approves a rig's extensions (profile --help: every option)`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run': return await (await import('./run.ts')).runCommand(rest);
      case 'validate': return await (await import('./validate.ts')).validateCommand(rest);
      case 'rig': return await (await import('./rig.ts')).rigCommand(rest);
      case 'sysext': return await (await import('./sysext.ts')).sysextCommand(rest);
      case 'doctor': return await (await import('./doctor.ts')).doctorCommand(rest);
      case 'provision': return await (await import('./provision.ts')).provisionCommand(rest);
      case 'profile': return await (await import('./profile.ts')).profileCommand(rest);
      case 'repro': return await (await import('./repro.ts')).reproCommand(rest);
      case 'history': return await (await import('./history.ts')).historyCommand(rest);
      case 'report': return await (await import('./report.ts')).reportCommand(rest);
      case '--version': case '-v':
        console.log(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
        return 0;
      case undefined: case 'help': case '--help': case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"; run dextbench --help for the commands`);
    }
  } catch (error) {
    return reportError(error);
  }
}
