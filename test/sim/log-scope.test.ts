// The predicates a scenario's log streams use, evaluated by the simulated Mac's `log`: the full
// stream keeps every system line, the timeline only the lines about the scenario's extensions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dextPredicate, extensionLogPredicate } from '../../harness/host/tools/log.ts';
import { dextSource } from '../../harness/sim/matching.ts';
import { KERNEL, KERNELMANAGERD, parsePredicate, SYSEXTD, type LogEntry, type LogSource } from '../../harness/sim/log.ts';

const ECHO = 'com.example.echo.driver';
const BETA = 'com.example.echo.driver.beta';

function line(source: LogSource, eventMessage: string): LogEntry {
  return {
    us: 0n, machTimestamp: 0n, traceID: 0n, threadID: source.threadID, messageType: 'Default', subsystem: '', category: '',
    processID: source.processID, processImagePath: source.processImagePath, senderImagePath: source.senderImagePath ?? source.processImagePath, eventMessage,
  };
}

const echoDext = dextSource({ pid: 4242, bundle: ECHO, uuid: 'A1B2' });
const betaDext = dextSource({ pid: 4343, bundle: BETA, uuid: 'C3D4' });
const lines = {
  echoStart: line(KERNEL, 'DK: EchoDriver-0x100000a45::start(Loopback-0x100000a40) ok'),
  echoOwn: line(echoDext, 'EchoDriver::Start: provider Loopback-0x100000a40, version 1.0.0/1'),
  echoCrash: line(KERNEL, `Driver ${ECHO} has crashed 1 time(s)`),
  echoStaging: line(SYSEXTD, `staging extension with identifier ${ECHO}`),
  echoRealize: line(KERNELMANAGERD, `Realize dext ${ECHO}`),
  // Older releases: the dext's os_log as a kernel line whose sender is the bundle id (§7-D).
  echoOldStyle: line({ ...KERNEL, senderImagePath: `/System/Library/DriverExtensions/${ECHO}` }, `${ECHO} init`),
  betaOwn: line(betaDext, 'EchoBeta::Start'),
  betaCrash: line(KERNEL, `Driver ${BETA} has crashed 1 time(s)`),
  betaExit: line(KERNEL, `DK: IOUserServer(${BETA}-0x100000b01)-0x100000b02::exit(SIGKILL)`),
  betaRequest: line(SYSEXTD, `client activation request for ${BETA}`),
  otherKernel: line(KERNEL, 'Sandbox: mdworker(512) deny(1) file-read-data /private/var'),
  otherProcess: line({ processID: 77, processImagePath: '/usr/libexec/opendirectoryd', threadID: 1 }, `looked up ${ECHO}`),
};
type Name = keyof typeof lines;
const matching = (predicate: string) => {
  const matcher = parsePredicate(predicate);
  return (Object.keys(lines) as Name[]).filter((name) => matcher(lines[name]));
};

test('timeline: system lines naming the scenario\'s extension or its service class, and the dext\'s own lines; none about another bundle', () => {
  const timeline = extensionLogPredicate({ targets: [{ bundle: ECHO, userClasses: ['EchoDriver'] }], others: [BETA] })!;
  assert.deepEqual(matching(timeline), ['echoStart', 'echoOwn', 'echoCrash', 'echoStaging', 'echoRealize', 'echoOldStyle']);
});

test('full stream: every kernel, sysextd and kernelmanagerd line, and the scenario\'s dexts\' own lines', () => {
  assert.deepEqual(matching(dextPredicate([ECHO])),
    ['echoStart', 'echoOwn', 'echoCrash', 'echoStaging', 'echoRealize', 'echoOldStyle', 'betaCrash', 'betaExit', 'betaRequest', 'otherKernel']);
});

test('a scenario that follows both bundles sees both on its timeline', () => {
  const both = extensionLogPredicate({ targets: [{ bundle: ECHO }, { bundle: BETA }], others: [BETA] })!;
  assert.deepEqual(matching(both),
    ['echoOwn', 'echoCrash', 'echoStaging', 'echoRealize', 'echoOldStyle', 'betaOwn', 'betaCrash', 'betaExit', 'betaRequest']);
});
