// `reboot: { within: 5m }`: restart the Mac under test and wait until it is back, for upgrade and
// willCompleteAfterReboot scenarios. "Back" means a new kern.boottime, read through the rig's Exec
// as soon as the host answers again; then developer mode must be as it was and the run must still
// hold the rig's lease (a reboot longer than the lease's TTL may lose it to another run).
import { z } from 'zod';
import { DeadlineError, formatMs, pollUntil } from '../common/time.ts';
import { TransportError } from '../host/exec.ts';
import { bootTimeIso, sameBootTime, type BootTime } from '../host/parsers/index.ts';
import { requestRestart, RESTART_ARGV } from '../host/tools/shutdown.ts';
import { bootTime } from '../host/tools/sysctl.ts';
import { duration } from '../scenario/index.ts';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';

const DEFAULT_WITHIN_MS = 5 * 60_000;
const POLL_MS = 500;
/** One boot-time read while the Mac comes back: an ssh connect to a host still down must not eat the deadline. */
const READ_TIMEOUT_MS = 15_000;

const schema = z.union([z.strictObject({ within: duration.optional() }), z.null()]).transform((v) => v ?? {});

const show = (t: BootTime) => `{ sec = ${t.sec}, usec = ${t.usec} }`;
const onOff = (on: boolean) => (on ? 'on' : 'off');

export default defineStep({
  kind: 'reboot',
  summary: 'Restart the Mac under test (`sudo -n shutdown -r now` on a privileged rig) and wait until it is back with a new boot time (default within 5m); developer mode and the lease are checked after. Refused on host: local.',
  schema,
  defaultTimeoutMs: DEFAULT_WITHIN_MS + 60_000,
  async run(args, ctx) {
    const { definition, exec, tools } = ctx.rig;
    if (definition.host.kind === 'local') {
      throw new StepFailure(`reboot: refused on rig "${definition.name}", whose host is local: restarting the Mac that runs dextbench would end this run; reach the Mac under test over ssh (host: { ssh: user@mac })`);
    }
    const withinMs = args.within ?? Math.min(DEFAULT_WITHIN_MS, ctx.timeoutMs);
    const before = await bootTime(exec);
    const developerBefore = await tools.sysext.developerMode();

    const started = performance.now();
    const request = await requestRestart(exec, { sudo: definition.privileged.sudo });
    ctx.timeline.record({ type: 'reboot', phase: 'requested', bootTime: bootTimeIso(before), ...(request.outcome === 'cut-off' ? { cutOff: request.why } : {}) });

    const deadline = started + withinMs;
    let after: BootTime;
    try {
      after = await pollUntil<BootTime, string>(async () => {
        try {
          const now = await bootTime(exec, { timeoutMs: Math.max(1_000, Math.min(READ_TIMEOUT_MS, deadline - performance.now())) });
          return sameBootTime(now, before) ? { seen: `the boot time is still ${show(before)}` } : { value: now, seen: '' };
        } catch (error) {
          // The Mac is down, or half up (a connection refused, a tool not running yet): keep asking.
          return { seen: `it did not answer: ${(error as Error).message}` };
        }
      }, {
        timeoutMs: withinMs, intervalMs: POLL_MS,
        describe: (seen) => `reboot: ${exec.where} did not come back within ${formatMs(withinMs)} after ${RESTART_ARGV.join(' ')}: ${seen ?? 'nothing was read'}`,
      });
    } catch (error) {
      if (error instanceof DeadlineError) throw new StepFailure(error.message);
      throw error;
    }
    const downMs = Math.round(performance.now() - started);
    ctx.timeline.record({ type: 'reboot', phase: 'back', bootTime: bootTimeIso(after), downMs });

    const developerAfter = await tools.sysext.developerMode();
    if (developerAfter !== developerBefore) {
      throw new StepFailure(`reboot: developer mode was ${onOff(developerBefore)} before the reboot and is ${onOff(developerAfter)} after it (systemextensionsctl developer)`);
    }
    try {
      await ctx.verifyLease();
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw new StepFailure(`reboot: the run lost rig "${definition.name}" over the reboot: ${(error as Error).message}`);
    }
    return { downMs, bootTime: bootTimeIso(after) };
  },
});
