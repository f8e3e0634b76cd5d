// Reading `dextbench doctor`'s text output in tests: every line accounted for, and the rules every
// run keeps (the summary counts the lines, the exit code is the failing count, every line that is
// not ok has its fix).
import assert from 'node:assert/strict';
import type { CliResult } from './cli.ts';

const CHECK_LINE = /^([✓!✘]) ([^:]+): (.+?)(?: → (.+))?$/;

export interface DoctorLine { mark: string; name: string; detail: string; fix?: string }

/** The check lines between the header and the summary; every line of the output is accounted for. */
export function checkLines(result: CliResult): DoctorLine[] {
  const out = result.stdout.trimEnd().split('\n');
  assert.match(out[0]!, /^doctor: rig \S+ \(.+\.yaml\) on simulated Mac "\S+"( over ssh 127\.0\.0\.1)?$/);
  const lines = out.slice(1, -1).map((line) => {
    const m = CHECK_LINE.exec(line);
    assert.ok(m, `not a check line: ${line}`);
    return { mark: m[1]!, name: m[2]!, detail: m[3]!, ...(m[4] ? { fix: m[4] } : {}) };
  });
  const count = (mark: string) => lines.filter((l) => l.mark === mark).length;
  const warnings = count('!');
  assert.equal(out.at(-1), `${count('✓')} ok, ${warnings} warning${warnings === 1 ? '' : 's'}, ${count('✘')} failing`);
  assert.equal(result.code, count('✘'), 'the exit code is the number of failing checks');
  // Every line that is not ok says what to run.
  assert.ok(lines.every((l) => (l.mark === '✓') === (l.fix === undefined)), result.stdout);
  return lines;
}

/** The checks every simulated Mac's rig opens with (rigs/sim.yaml's hub adds tool uhubctl). */
export const SIM_CHECKS = [
  'host reachable', 'macOS version', 'SIP', 'developer mode', 'command line tools', 'swiftc', 'activator', 'bridge',
  'tool systemextensionsctl', 'tool ioreg', 'tool log', 'tool eslogger', 'tool uhubctl',
];
