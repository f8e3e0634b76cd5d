// The step registry: every step kind, one module each. The scenario loader gets the schemas
// from here; the engine gets the runners.
import expectEnumerated from './expect-enumerated.ts';
import expectMatched from './expect-matched.ts';
import expectNoCrash from './expect-no-crash.ts';
import expectRelaunched from './expect-relaunched.ts';
import expectTerminated from './expect-terminated.ts';
import call from './call.ts';
import expectEvent from './expect-event.ts';
import esClient from './es-client.ts';
import esExec from './es-exec.ts';
import esExpect from './es-expect.ts';
import esFile from './es-file.ts';
import esForbid from './es-forbid.ts';
import esFork from './es-fork.ts';
import esMount from './es-mount.ts';
import esSignal from './es-signal.ts';
import fault from './fault.ts';
import io from './io.ts';
import ioAwait from './io-await.ts';
import reconnect from './reconnect.ts';
import reboot from './reboot.ts';
import measure from './measure.ts';
import neConnect from './ne-connect.ts';
import neDns from './ne-dns.ts';
import neExpect from './ne-expect.ts';
import neFilter from './ne-filter.ts';
import plug from './plug.ts';
import replug from './replug.ts';
import run from './run.ts';
import script from './script.ts';
import sysextActivate from './sysext-activate.ts';
import sysextDeactivate from './sysext-deactivate.ts';
import sysextDeveloper from './sysext-developer.ts';
import sysextExpect from './sysext-expect.ts';
import sysextUninstall from './sysext-uninstall.ts';
import unplug from './unplug.ts';
import usbExpect from './usb-expect.ts';
import usbIo from './usb-io.ts';
import wait from './wait.ts';
import type { StepDefinition } from './step.ts';

const all: StepDefinition[] = [
  sysextDeveloper, sysextActivate, sysextDeactivate, sysextUninstall, sysextExpect,
  plug, unplug, replug, expectEnumerated, expectMatched, expectTerminated, expectNoCrash, expectRelaunched,
  wait, run, script, measure, fault,
  call, io, ioAwait, expectEvent, reconnect,
  reboot,
  usbExpect, usbIo,
  esExec, esFork, esSignal, esFile, esMount, esExpect, esForbid, esClient,
  neFilter, neConnect, neDns, neExpect,
] as StepDefinition[];

export const stepRegistry: ReadonlyMap<string, StepDefinition> = new Map(all.map((s) => [s.kind, s]));

export type { StepDefinition } from './step.ts';
export type { StepContext, Timeline, TimelineEvent, CleanupStack, Measurement, ServingDext } from './context.ts';
export { StepFailure } from './context.ts';
