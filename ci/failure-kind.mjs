#!/usr/bin/env node
// What a finished `dextbench run` leaves for CI to act on: whether the failures it did not forgive
// are the product's or only the rig's. It reads the run's JSON report (results.json) the way
// dextbench does (harness/engine/run-results.ts): each test's `dextbench.class` annotation, minus
// quarantined scenarios (`dextbench.quarantined`) and infrastructure failures that passed on an
// infrastructure retry: dextbench rewrites those as flaky with a `dextbench.infra-retry` annotation
// (harness/engine/retry-merge.ts); a results.json not rewritten is matched against the retries' own
// reports (infra-retry-N/results.json). Plain Node, no dependencies, so it can be copied beside the
// workflow.
//
//   node ci/failure-kind.mjs [report folder (dextbench-report)] [the run's exit code]
//
// Prints one line, `<kind>: <what>`, kind being none | product | infrastructure, and exits
//   0 nothing left failing, 1 a failure that is not the rig's (product, configuration, harness, or
//   a run that stopped before its scenarios), 3 only infrastructure failures, 130 interrupted.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CLASS = 'dextbench.class';
const QUARANTINED = 'dextbench.quarantined';
const INFRA_RETRY = 'dextbench.infra-retry';

const [reportDir = 'dextbench-report', exitText] = process.argv.slice(2);
const runExit = exitText === undefined ? undefined : Number(exitText);
if (exitText !== undefined && !Number.isInteger(runExit)) {
  console.error(`failure-kind: the run's exit code must be a number, got ${JSON.stringify(exitText)}`);
  process.exit(2);
}

function tests(file) {
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const out = [];
  const visit = (suite) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        const last = test.results.at(-1);
        const annotations = [...(last?.annotations ?? []), ...(test.annotations ?? [])];
        const error = last?.error ?? last?.errors?.[0];
        out.push({
          key: `${spec.file}\u0000${spec.title}`, file: spec.file, rig: test.projectName, outcome: test.status,
          failureClass: annotations.find((a) => a.type === CLASS)?.description,
          quarantined: annotations.some((a) => a.type === QUARANTINED),
          passedOnInfraRetry: test.status === 'flaky' && annotations.some((a) => a.type === INFRA_RETRY),
          // Playwright colours messages for terminals.
          error: (error?.message ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim())?.trim().replace(/^Error: /, ''),
        });
      }
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  for (const suite of report.suites ?? []) visit(suite);
  return { tests: out, errors: (report.errors ?? []).map((e) => (e.message ?? '').split('\n')[0].replace(/^Error: /, '')) };
}

function verdict() {
  if (runExit === 130) return [130, 'none: the run was interrupted (Ctrl-C or the job was cancelled)'];
  const main = tests(join(reportDir, 'results.json'));
  if (!main) {
    return runExit === 0 ? [0, 'none: the run wrote no results.json (nothing ran)']
      : [1, `product: the run stopped before its scenarios (exit ${runExit ?? '?'}, no ${join(reportDir, 'results.json')}); its own output says why`];
  }
  // A scenario retried on infrastructure ends as its last retry did (on whichever rig it went to).
  const lastRetry = new Map();
  const retries = readdirSync(reportDir).filter((d) => /^infra-retry-\d+$/.test(d)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  for (const dir of retries) {
    for (const t of tests(join(reportDir, dir, 'results.json'))?.tests ?? []) lastRetry.set(t.key, t);
  }
  const left = main.tests.filter((t) => t.outcome === 'unexpected' && !t.quarantined)
    .map((t) => lastRetry.get(t.key) ?? t).filter((t) => t.outcome === 'unexpected');
  const describe = (t) => `${t.file} on rig ${t.rig}${t.error ? `: ${t.error}` : ''}`;
  const notRig = left.filter((t) => t.failureClass !== 'infrastructure');
  if (notRig.length) {
    const byClass = [...new Set(notRig.map((t) => t.failureClass ?? 'unclassified'))].join(', ');
    return [1, `product: ${notRig.length} scenario${notRig.length > 1 ? 's' : ''} failed (${byClass}), first ${describe(notRig[0])}`];
  }
  if (left.length) {
    return [3, `infrastructure: ${left.length} scenario${left.length > 1 ? 's' : ''} failed on the rig only (no retry passed), first ${describe(left[0])}`];
  }
  if (main.errors.length && runExit !== 0) return [1, `product: the run failed outside its scenarios: ${main.errors[0]}`];
  if (runExit !== undefined && runExit !== 0) return [1, `product: the run exited ${runExit} with no failed scenario left; its own output says why`];
  const forgiven = main.tests.filter((t) => t.outcome === 'unexpected' || t.passedOnInfraRetry).length;
  return [0, `none: ${main.tests.length} scenario runs${forgiven ? `, ${forgiven} failure${forgiven > 1 ? 's' : ''} quarantined or passed on an infrastructure retry` : ''}`];
}

const [code, line] = verdict();
console.log(line);
process.exit(code);
