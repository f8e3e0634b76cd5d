// expect.no_crash's reading of the kernel's lines, on ndjson lines in the format `log show` prints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUnifiedLogLine, type UnifiedLogEntry } from '../../harness/host/parsers/index.ts';
import { crashLines } from '../../harness/steps/expect-no-crash.ts';

const BUNDLE = 'com.example.echo.driver';
let second = 10;

function kernel(eventMessage: string): UnifiedLogEntry {
  const line = JSON.stringify({
    timezoneName: '', messageType: 'Default', eventType: 'logEvent', subsystem: '', category: '', processID: 0,
    processImagePath: '/kernel', timestamp: `2025-08-09 10:11:${second++}.521570-0400`, traceID: 1, eventMessage,
  });
  return parseUnifiedLogLine(line)!;
}

const launch = (n: number) => kernel(`Driver ${BUNDLE} has crashed ${n} time(s)`);
const start = (service: string, provider: string) => kernel(`DK: EchoDriver-0x${service}::start(${provider}) ok`);

test('a launch line alone is no crash, whatever its count: the kernel prints it at every launch', () => {
  assert.deepEqual(crashLines(BUNDLE, [launch(3), start('a45', 'Loopback-0x100000a40'), launch(3)], new Set(), new Set(['EchoDriver'])), []);
  assert.deepEqual(crashLines(BUNDLE, [launch(2), launch(1)], new Set(), new Set()), [], 'the 24-hour window may drop a count');
});

test('a counter above the one printed at the launch before it is a crash, quoted with its time', () => {
  const lines = crashLines(BUNDLE, [launch(0), launch(1), kernel('Driver com.example.other has crashed 5 time(s)')], new Set(), new Set());
  assert.deepEqual(lines, [`kernel 10:11:${second - 2}.521570 "Driver ${BUNDLE} has crashed 1 time(s)" (0 at the launch before)`]);
});

test('a rematch after a crash counts for the bundle\'s providers, also ones its services started on in the scenario', () => {
  const known = new Set([0x100000a40n]);
  assert.equal(crashLines(BUNDLE, [kernel('DK: Loopback-0x100000a40 rematching after dext crash')], known, new Set()).length, 1);
  assert.equal(crashLines(BUNDLE, [kernel('DK: Other-0x100000b00 rematching after dext crash')], known, new Set()).length, 0, 'another driver\'s device');
  const onInterface = [start('c10', 'IOUSBHostInterface-0x100000c01'), kernel('DK: IOUSBHostInterface-0x100000c01 rematching after dext crash')];
  assert.equal(crashLines(BUNDLE, onInterface, known, new Set(['EchoDriver'])).length, 1);
  assert.equal(crashLines(BUNDLE, onInterface, known, new Set(['OtherDriver'])).length, 0);
});
