import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogTimestamp, parseUnifiedLogLine, type UnifiedLogEntry } from '../../../harness/host/parsers/index.ts';
import { fixture } from './fixture.ts';

const ndjsonLines = () => fixture('log-ndjson-built.txt').split('\n');

/** One pretty-printed JSON object (4-B, 4-C) rewritten as one ndjson line, digits untouched. */
function toNdjson(pretty: string): string {
  return pretty.replace(/\n\s*/g, '');
}

test('ndjson stream: notice line, blank line and the count footer give null; events parse', () => {
  const parsed = ndjsonLines().map(parseUnifiedLogLine);
  assert.equal(parsed[0], null, 'Filtering… notice');
  assert.equal(parsed[4], null, 'blank line');
  assert.equal(parsed[5], null, '{"count":3,"finished":1} footer');
  assert.equal(parsed[6], null, 'trailing empty line');
  assert.equal(parsed.filter((p) => p !== null).length, 3);
});

test('4-C (as ndjson): every field, \\/ unescaped, process from processImagePath, timestamp converted', () => {
  const entry = parseUnifiedLogLine(ndjsonLines()[1]!)!;
  const { raw, ...fields } = entry;
  assert.deepEqual(fields, {
    timestamp: new Date('2025-08-09T14:11:55.521Z'),
    timestampText: '2025-08-09 10:11:55.521570-0400',
    eventMessage: 'nicscott : TTY=ttys001 ; PWD=/Users/nicscott ; USER=root ; COMMAND=/bin/ls',
    subsystem: '',
    category: '',
    processID: 51184,
    processImagePath: '/usr/bin/sudo',
    process: 'sudo',
    senderImagePath: '/usr/bin/sudo',
    sender: 'sudo',
    messageType: 'Default',
    eventType: 'logEvent',
    traceID: 2298404520722436n,
    threadID: 1138139n,
    machTimestamp: 5335783484167n,
  } satisfies Omit<UnifiedLogEntry, 'raw'>);
  assert.equal(raw['formatString'], '%8s : %s');
  assert.equal(raw['source'], null);
  assert.deepEqual(raw['backtrace'], { frames: [{ imageOffset: 366276, imageUUID: '6A15F302-EE0B-3EC6-B466-82B675870A4E' }] });
});

test('ids beyond 2^53 keep every digit (traceID 41979461356879876, threadID, machTimestamp)', () => {
  const entry = parseUnifiedLogLine(ndjsonLines()[2]!)!;
  assert.equal(entry.traceID, 41979461356879876n);
  assert.equal(entry.threadID, 9007199254740993n);
  assert.equal(entry.machTimestamp, 18446744073709551615n);
  assert.equal(entry.raw['traceID'], 41979461356879876n, 'raw keeps the exact value too');
  assert.equal(entry.process, 'kernel');
  assert.equal(entry.processID, 0);
  assert.equal(entry.eventMessage, 'DK: AppleUSBCHCOM-0x1000030ea::start(IOUSBHostInterface-0x1000030e5) ok');
  assert.equal(entry.timestamp.toISOString(), '2025-08-09T04:42:01.000Z', '+0530 offset applied');
  assert.equal(entry.timestampText, '2025-08-09 10:12:01.000999+0530');
});

test('subsystem/category/messageType Info from a sysextd event', () => {
  const entry = parseUnifiedLogLine(ndjsonLines()[3]!)!;
  assert.equal(entry.subsystem, 'com.apple.sx');
  assert.equal(entry.category, 'StateChanges');
  assert.equal(entry.messageType, 'Info');
  assert.equal(entry.process, 'sysextd');
  assert.equal(entry.sender, 'sysextd');
  assert.match(entry.eventMessage, /\(1\.0\.0\/1\.0\.0\) advancing state from realizing to staging$/);
});

test('4-B (2018 json, as ndjson): keys the object lacks stay absent; its notice lines are null', () => {
  const lines = fixture('log-show-json-4B.txt').split('\n');
  assert.equal(parseUnifiedLogLine(lines[0]!), null);
  assert.equal(parseUnifiedLogLine(lines[1]!), null, 'Filtering the log data using …');
  assert.equal(parseUnifiedLogLine(lines[2]!), null, 'Skipping info and debug messages…');
  const json = fixture('log-show-json-4B.txt');
  const object = json.slice(json.indexOf('[{') + 1, json.lastIndexOf('}]') + 1);
  const entry = parseUnifiedLogLine(toNdjson(object))!;
  assert.equal(entry.traceID, 78134079258628n);
  assert.equal(entry.threadID, 17657416n);
  assert.equal(entry.machTimestamp, 1218436261547097n);
  assert.equal(entry.subsystem, 'os_log_inlinable');
  assert.equal(entry.category, 'test');
  assert.equal(entry.processImagePath, '', 'the 2018 object has no processImagePath');
  assert.equal(entry.process, '');
  assert.equal(entry.senderImagePath, undefined);
  assert.equal(entry.sender, undefined);
  assert.equal(entry.timestamp.toISOString(), '2018-06-10T15:47:50.829Z');
  assert.deepEqual(entry.raw['source'], { symbol: '$S16os_log_inlinable6LoggerV0B11SecondLevelyySSFZ', line: 24, image: 'os_log_inlinablePackageTests', file: 'os_log_inlinable.swift' });
});

test('4-C pretty object compacted to one line parses to the same entry as the ndjson fixture', () => {
  const fromPretty = parseUnifiedLogLine(toNdjson(fixture('log-json-4C.json')))!;
  const fromNdjson = parseUnifiedLogLine(ndjsonLines()[1]!)!;
  assert.deepEqual(fromPretty, fromNdjson);
});

test('default-style and other non-JSON lines are notices (null)', () => {
  for (const line of fixture('log-default-4E.txt').split('\n')) assert.equal(parseUnifiedLogLine(line), null);
  assert.equal(parseUnifiedLogLine('   '), null);
  assert.equal(parseUnifiedLogLine('{"eventMessage":"no eventType"}'), null);
  assert.equal(parseUnifiedLogLine('{"eventType":"logEvent"}'), null);
  assert.equal(parseUnifiedLogLine('[1,2]'), null);
});

test('a JSON line cut short throws one line', () => {
  const cut = ndjsonLines()[1]!.slice(0, 80);
  assert.throws(() => parseUnifiedLogLine(cut), (error: Error) => /^unified log line is not valid JSON: /.test(error.message) && !error.message.includes('\n'));
});

test('parseLogTimestamp: the log format, with and without fraction, offsets with/without colon; refuses others', () => {
  assert.equal(parseLogTimestamp('2025-08-09 10:11:55.521570-0400').toISOString(), '2025-08-09T14:11:55.521Z');
  assert.equal(parseLogTimestamp('2021-02-19 08:56:35.538578-0800').toISOString(), '2021-02-19T16:56:35.538Z');
  assert.equal(parseLogTimestamp('2020-09-01 03:04:29.453721+0530').toISOString(), '2020-08-31T21:34:29.453Z');
  assert.equal(parseLogTimestamp('2025-08-09 10:11:55-04:00').toISOString(), '2025-08-09T14:11:55.000Z');
  assert.equal(parseLogTimestamp('2025-08-09 10:11:55.5+0000').toISOString(), '2025-08-09T10:11:55.500Z');
  assert.throws(() => parseLogTimestamp('yesterday'), /is not YYYY-MM-DD HH:MM:SS\.ffffff±HHMM/);
  assert.throws(() => parseLogTimestamp('2025-13-45 10:11:55.0-0400'), /is not a valid date/);
});
