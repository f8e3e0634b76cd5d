// The ES/NE sample extensions (dext-fixtures/execguard, dext-fixtures/flowgate) against what the
// steps and the simulated Mac expect (es-ne-contract.md §1, §5): bundle ids, Info.plist keys,
// entitlement keys, and the log lines. The Swift cannot be compiled here, so its os.Logger format
// strings are read from the source, filled with sample values the way the extensions fill them,
// and fed to harness/es's and harness/ne's own parsers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ES_CATEGORY } from '../../harness/es/client.ts';
import { EXECGUARD_BUNDLE, EXECGUARD_CATEGORY, parseExecGuardLine } from '../../harness/es/execguard.ts';
import { logValue } from '../../harness/sim/log-value.ts';
import { ES_NEW_CLIENT_RESULTS } from '../../harness/es/new-client.ts';
import { parsePlist, type PlistDict } from '../../harness/host/parsers/plist.ts';
import { filterApprovalFix, filterOutcomeOf, NE_FILTER_ERRORS } from '../../harness/host/tools/activator.ts';
import { FLOWGATE_BUNDLE, FLOWGATE_CATEGORY, parseFlowGateMessage } from '../../harness/ne/flowgate-log.ts';

const source = (path: string) => readFileSync(new URL(`../../dext-fixtures/${path}`, import.meta.url), 'utf8');
const plist = (path: string) => parsePlist(source(path)) as PlistDict;

// Contract §5, literally; `<name>` is a value.
const CONTRACT = {
  started: 'ExecGuard started: es_new_client ES_NEW_CLIENT_RESULT_SUCCESS',
  failed: 'ExecGuard failed: es_new_client <result>',
  deny: 'deny exec path=<path> signing_id=<signingId> pid=<pid> rule=<rule>',
  allow: 'allow exec path=<path> signing_id=<signingId> pid=<pid> cached=<cached>',
  flowStarted: 'FlowGate started rules=<rules>',
  verdict: 'verdict=<verdict> protocol=<proto> remote=<remote> hostname=<hostname> pid=<pid>',
  dns: 'dns verdict=<verdict> name=<name> pid=<pid>',
};

interface LogCall { level: string; template: string; privacyAll: boolean }

/**
 * The `logger.<level>("…")` calls inside `static func <name>(…)` of the Swift enum `enumName`
 * (PolicyLog, FilterLog): each interpolation `\(expr, privacy: .public)` becomes `<expr>`.
 */
function logFunctions(swift: string, enumName: string): Map<string, LogCall> {
  const body = new RegExp(`enum ${enumName} \\{([\\s\\S]*?)\\n\\}`).exec(swift)?.[1];
  assert.ok(body, `enum ${enumName} in the Swift source`);
  const calls = new Map<string, LogCall>();
  for (const m of body.matchAll(/static func (\w+)\([^)]*\) \{\s*logger\.(\w+)\("((?:[^"\\]|\\.)*)"\)\s*\}/g)) {
    const interpolations = [...m[3]!.matchAll(/\\\(([^,)]+)(, privacy: \.(\w+))?\)/g)];
    calls.set(m[1]!, {
      level: m[2]!,
      template: m[3]!.replace(/\\\(([^,)]+)(?:, privacy: \.\w+)?\)/g, '<$1>'),
      privacyAll: interpolations.every((i) => i[3] === 'public'),
    });
  }
  return calls;
}

const fill = (template: string, values: Record<string, string>) =>
  template.replace(/<(\w+)>/g, (_, name: string) => {
    assert.ok(name in values, `a value for <${name}>`);
    return values[name]!;
  });

test('ExecGuard: bundle id, SYSX bundle, Mach service name, entitlement; the sim builds carry the same id and the versions the upgrade wants', () => {
  const info = plist('execguard/Info.plist');
  assert.equal(info.CFBundleIdentifier, EXECGUARD_BUNDLE);
  assert.equal(info.CFBundleExecutable, EXECGUARD_BUNDLE);
  assert.equal(info.CFBundlePackageType, 'SYSX');
  assert.equal(info.NSEndpointSecurityMachServiceName, '$(TeamIdentifierPrefix)com.example.execguard.xpc');
  assert.equal(typeof info.NSSystemExtensionUsageDescription, 'string');
  assert.equal(info.NetworkExtension, undefined);
  assert.deepEqual(plist('execguard/ExecGuard.entitlements'), { 'com.apple.developer.endpoint-security.client': true });
  // build.sh writes the team-prefixed name the Info.plist's placeholder stands for.
  assert.match(source('execguard/build.sh'), /mach_service=\$team_id\.com\.example\.execguard\.xpc/);
  assert.match(source('execguard/build.sh'), /plutil -replace NSEndpointSecurityMachServiceName -string "\$mach_service"/);

  for (const [version, short, build] of [['1.0.0', '1.0.0', '1'], ['1.1.0', '1.1.0', '2']] as const) {
    const sim = plist(`execguard/sim/ExecGuard-${version}.systemextension/Contents/Info.plist`);
    assert.equal(sim.CFBundleIdentifier, EXECGUARD_BUNDLE);
    assert.equal(sim.CFBundleExecutable, EXECGUARD_BUNDLE);
    assert.equal(sim.CFBundlePackageType, 'SYSX');
    assert.equal(sim.CFBundleShortVersionString, short);
    assert.equal(sim.CFBundleVersion, build);
    // Contract §1: this key (and no NetworkExtension dict) is what puts it under endpoint_security.
    assert.equal(sim.NSEndpointSecurityMachServiceName, 'DXTBNCH001.com.example.execguard.xpc');
    assert.equal(sim.NetworkExtension, undefined);
  }
  assert.equal(ES_CATEGORY, 'com.apple.system_extension.endpoint_security');
});

test('FlowGate: bundle id, NEProviderClasses naming the Swift class in module FlowGate, NEMachServiceName under its app group, entitlements', () => {
  const info = plist('flowgate/Info.plist');
  assert.equal(info.CFBundleIdentifier, 'com.example.flowgate');
  assert.equal(info.CFBundleExecutable, 'com.example.flowgate');
  assert.equal(info.CFBundlePackageType, 'SYSX');
  assert.equal(info.NSEndpointSecurityMachServiceName, undefined);
  const ne = info.NetworkExtension as PlistDict;
  assert.deepEqual(ne.NEProviderClasses, { 'com.apple.networkextension.filter-data': 'FlowGate.FilterDataProvider' });
  assert.match(source('flowgate/FilterDataProvider.swift'), /^final class FilterDataProvider: NEFilterDataProvider \{/m);
  assert.match(source('flowgate/build.sh'), /-module-name FlowGate /);
  assert.match(source('flowgate/main.swift'), /NEProvider\.startSystemExtensionMode\(\)[\s\S]*dispatchMain\(\)/);

  const entitlements = plist('flowgate/FlowGate.entitlements');
  assert.deepEqual(Object.keys(entitlements).sort(), ['com.apple.developer.networking.networkextension', 'com.apple.security.application-groups']);
  assert.deepEqual(entitlements['com.apple.developer.networking.networkextension'], ['content-filter-provider-systemextension']);
  // The Mach service must sit under an app group the extension has.
  const groups = entitlements['com.apple.security.application-groups'] as string[];
  assert.ok(groups.some((g) => (ne.NEMachServiceName as string).startsWith(g)), `${String(ne.NEMachServiceName)} under one of ${groups.join(', ')}`);

  const sim = plist('flowgate/sim/FlowGate-1.0.0.systemextension/Contents/Info.plist');
  assert.equal(sim.CFBundleIdentifier, 'com.example.flowgate');
  assert.equal(sim.CFBundleShortVersionString, '1.0.0');
  assert.equal(sim.CFBundleVersion, '1');
  assert.equal(sim.NSEndpointSecurityMachServiceName, undefined);
  assert.deepEqual((sim.NetworkExtension as PlistDict).NEProviderClasses, ne.NEProviderClasses);
  assert.equal((sim.NetworkExtension as PlistDict).NEMachServiceName, 'DXTBNCH001.com.example.flowgate');
});

test('the activator app may enable a content filter, and both read the config where harness/rig delivers it', () => {
  assert.deepEqual(plist('activator/DextbenchActivator.entitlements')['com.apple.developer.networking.networkextension'], ['content-filter-provider']);
  // Contract §2: /Users/Shared/dextbench/config/<bundle>.json.
  for (const file of ['execguard/Policy.swift', 'flowgate/FlowRules.swift']) {
    assert.match(source(file), /URL\(fileURLWithPath: "\/Users\/Shared\/dextbench\/config\/\\\(bundle\)\.json"\)/, file);
  }
  assert.match(source('execguard/Policy.swift'), /\("denyExec", \\\.denyPaths\),\s*\("denySigningIds", \\\.denySigningIds\)/);
  assert.match(source('flowgate/FlowRules.swift'), /map\["rules"\]/);
});

test('ExecGuard log lines: subsystem/category, the four §5 forms with public values, read back by harness/es', () => {
  const swift = source('execguard/main.swift');
  // Its lines are under its bundle id, as harness/es reads them (and the sim writes them).
  assert.match(swift, new RegExp(`let bundleId = Bundle\\.main\\.bundleIdentifier \\?\\? "${EXECGUARD_BUNDLE}"`));
  assert.match(swift, new RegExp(`Logger\\(subsystem: bundleId, category: "${EXECGUARD_CATEGORY}"\\)`));
  const calls = logFunctions(swift, 'PolicyLog');
  const started = calls.get('started');
  const failed = calls.get('failed');
  const deny = calls.get('deny');
  const allow = calls.get('allow');
  assert.ok(started && failed && deny && allow, `PolicyLog has started, failed, deny, allow: ${[...calls.keys()].join(', ')}`);
  for (const [name, call] of calls) assert.ok(call.privacyAll, `PolicyLog.${name}: every value .public`);

  assert.equal(started.template, CONTRACT.started);
  assert.deepEqual(parseExecGuardLine(started.template), { kind: 'started', result: 'ES_NEW_CLIENT_RESULT_SUCCESS' });

  assert.equal(failed.level, 'error', 'the failure is logged with type Error');
  assert.equal(failed.template, CONTRACT.failed);
  // Every result name main.swift can log is one harness/es knows (and maps to a fix).
  const names = [...swift.matchAll(/\(ES_NEW_CLIENT_RESULT_\w+, "(ES_NEW_CLIENT_RESULT_\w+)"\)/g)].map((m) => m[1]);
  assert.deepEqual(names, [...ES_NEW_CLIENT_RESULTS]);
  for (const result of names.slice(1)) {
    assert.deepEqual(parseExecGuardLine(fill(failed.template, { result: result! })), { kind: 'failed', result });
  }

  assert.equal(deny.template.replace(/<\w+>/g, '<>'), CONTRACT.deny.replace(/<\w+>/g, '<>'));
  assert.equal(allow.template.replace(/<\w+>/g, '<>'), CONTRACT.allow.replace(/<\w+>/g, '<>'));
  // Values go through logValue (a path with a space, an unsigned binary) before they are logged.
  assert.match(swift, /PolicyLog\.deny\(path: logValue\(path\), signingId: logValue\(signingId\), pid: pid, rule: rule\)/);
  assert.match(swift, /PolicyLog\.allow\(path: logValue\(path\), signingId: logValue\(signingId\), pid: pid, cached: cache\)/);
  const path = '/Users/Shared/my tools/nc 100%';
  assert.deepEqual(parseExecGuardLine(fill(deny.template, { path: logValue(path), signingId: logValue('com.apple.nc'), pid: '4242', rule: 'path' })),
    { kind: 'deny', path, signingId: 'com.apple.nc', pid: 4242, rule: 'path' });
  assert.deepEqual(parseExecGuardLine(fill(deny.template, { path: logValue('/usr/bin/nc'), signingId: logValue('com.apple.nc'), pid: '7', rule: 'signing_id' })),
    { kind: 'deny', path: '/usr/bin/nc', signingId: 'com.apple.nc', pid: 7, rule: 'signing_id' });
  // os.Logger writes a Bool interpolation as true/false.
  assert.deepEqual(parseExecGuardLine(fill(allow.template, { path: logValue('/usr/bin/true'), signingId: logValue(''), pid: '43', cached: 'true' })),
    { kind: 'allow', path: '/usr/bin/true', signingId: null, pid: 43, cached: true });
  // The rule names ExecPolicy.decide gives are the two the parser accepts.
  assert.deepEqual([...source('execguard/Policy.swift').matchAll(/\.deny\(rule: "(\w+)"\)/g)].map((m) => m[1]), ['path', 'signing_id']);
});

test('FlowGate log lines: subsystem/category, the three §5 forms with public values, read back by harness/ne', () => {
  const swift = source('flowgate/FilterDataProvider.swift');
  // Its lines are under its bundle id, as harness/ne follows them (and the sim writes them).
  assert.match(swift, new RegExp(`let bundleId = Bundle\\.main\\.bundleIdentifier \\?\\? "${FLOWGATE_BUNDLE}"`));
  assert.match(swift, new RegExp(`Logger\\(subsystem: bundleId, category: "${FLOWGATE_CATEGORY}"\\)`));
  const calls = logFunctions(swift, 'FilterLog');
  const started = calls.get('started');
  const verdict = calls.get('verdict');
  const dns = calls.get('dnsVerdict');
  assert.ok(started && verdict && dns, `FilterLog has started, verdict, dnsVerdict: ${[...calls.keys()].join(', ')}`);
  for (const [name, call] of calls) assert.ok(call.privacyAll, `FilterLog.${name}: every value .public`);

  assert.equal(started.template.replace(/<\w+>/g, '<>'), CONTRACT.flowStarted.replace(/<\w+>/g, '<>'));
  assert.equal(verdict.template.replace(/<\w+>/g, '<>'), CONTRACT.verdict.replace(/<\w+>/g, '<>'));
  assert.equal(dns.template.replace(/<\w+>/g, '<>'), CONTRACT.dns.replace(/<\w+>/g, '<>'));

  assert.deepEqual(parseFlowGateMessage(fill(started.template, { rules: '2' })), { kind: 'started', rules: 2 });
  // FlowFacts.remote is "\(address):\(port)"; Verdict and FlowProtocol raw values are the words logged.
  assert.match(source('flowgate/FilterDataProvider.swift'), /var remote: String \{ "\\\(address\):\\\(port\)" \}/);
  assert.match(source('flowgate/FlowRules.swift'), /enum Verdict: String \{\s*case allow\s*case drop\s*\}/);
  assert.match(source('flowgate/FlowRules.swift'), /enum FlowProtocol: String \{\s*case tcp\s*case udp\s*\}/);
  assert.deepEqual(parseFlowGateMessage(fill(verdict.template, { verdict: 'drop', proto: 'tcp', remote: '192.0.2.20:443', hostname: logValue('blocked.example'), pid: '4242' })),
    { kind: 'flow', verdict: 'drop', protocol: 'tcp', remote: '192.0.2.20:443', address: '192.0.2.20', port: 443, hostname: 'blocked.example', pid: 4242 });
  assert.deepEqual(parseFlowGateMessage(fill(verdict.template, { verdict: 'allow', proto: 'udp', remote: 'fe80::1:53', hostname: logValue(null), pid: '88' })),
    { kind: 'flow', verdict: 'allow', protocol: 'udp', remote: 'fe80::1:53', address: 'fe80::1', port: 53, pid: 88 });
  assert.deepEqual(parseFlowGateMessage(fill(dns.template, { verdict: 'drop', name: logValue('blocked.example'), pid: '88' })),
    { kind: 'dns', verdict: 'drop', name: 'blocked.example', pid: 88 });
  // The same value encoding on both sides (FlowRules.swift's logValue mirrors Policy.swift's).
  const logValueBody = (file: string) => /func logValue\(_ text: String\?\) -> String \{([\s\S]*?)\n\}/.exec(source(file))?.[1]?.replace(/\s+/g, ' ');
  assert.ok(logValueBody('flowgate/FlowRules.swift')?.includes('case "%": out += "%25" case " ": out += "%20"'));
  assert.ok(logValueBody('execguard/Policy.swift')?.includes('case "%": out += "%25" case " ": out += "%20"'));
});

test('the activator\'s filter JSON lines (main.swift) are the ones harness/host/tools/activator.ts decides on; error names and the approval fix agree', () => {
  const swift = source('activator/main.swift');
  const emits = [...swift.matchAll(/emit\(\[([\s\S]*?)\]\)/g)].map((m) => m[1]!);
  const shapes = (event: string) => emits.filter((e) => e.includes(`("event", .string("${event}"))`))
    .map((e) => [...e.matchAll(/\("(\w+)", \.(\w+)\(/g)].map((k) => `${k[1]}:${k[2]}`));
  for (const shape of shapes('filterSaved')) assert.deepEqual(shape, ['event:string', 'bundle:string', 'enabled:bool']);
  assert.deepEqual(shapes('filterStatus'), [['event:string', 'bundle:string', 'enabled:bool', 'configured:bool']]);
  assert.deepEqual(shapes('filterNeedsApproval'), [['event:string', 'bundle:string', 'message:string']]);
  assert.equal(shapes('filterSaved').length, 2, 'saved after a save, and for a disable with nothing saved');

  const bundle = 'com.example.flowgate';
  assert.deepEqual(filterOutcomeOf(bundle, `{"event":"filterSaved","bundle":"${bundle}","enabled":true}\n`, 0), { result: 'saved', bundle, enabled: true, events: [{ event: 'filterSaved', bundle, enabled: true }] });
  assert.equal(filterOutcomeOf(bundle, `{"event":"filterStatus","bundle":"${bundle}","enabled":false,"configured":true}\n`, 0)?.result, 'status');
  assert.equal(filterOutcomeOf(bundle, `{"event":"filterNeedsApproval","bundle":"${bundle}","message":"m"}\n`, 3)?.result, 'needsApproval');

  // NEFilterManagerError names: the Swift table and the host tool's, raw values 1...6.
  const swiftNames = Object.fromEntries([...(/let filterErrorNames: \[Int: String\] = \[([\s\S]*?)\]/.exec(swift)?.[1] ?? '').matchAll(/(\d+): "(\w+)"/g)].map((m) => [Number(m[1]), m[2]]));
  assert.deepEqual(swiftNames, { 1: 'configurationInvalid', 2: 'configurationDisabled', 3: 'configurationStale', 4: 'configurationCannotBeRemoved', 5: 'configurationPermissionDenied', 6: 'configurationInternalError' });
  assert.deepEqual(Object.fromEntries(Object.entries(NE_FILTER_ERRORS).map(([k, v]) => [Number(k), v])), swiftNames);
  // The fix the app prints is the one the host tool gives.
  const fix = /let filterApprovalFix = "([^"]+)"/.exec(swift)?.[1];
  assert.equal(fix?.replace('<bundle>', bundle), filterApprovalFix(bundle));
});

test('es-ne-contract.md: its six sections are where the links point, and its §5 example lines parse with harness/es\'s and harness/ne\'s parsers', () => {
  const contract = source('es-ne-contract.md');
  // READMEs link `es-ne-contract.md#5-log-lines` and the like: the headings give those anchors.
  const headings = [...contract.matchAll(/^## (\d)\. (.+)$/gm)].map((m) => `${m[1]}-${m[2]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')}`);
  assert.deepEqual(headings, ['1-declaration', '2-config-delivery', '3-the-activators-filter-verbs', '4-the-es-probe', '5-log-lines', '6-the-simulated-macs-side']);
  const block = (tag: string): string[] => {
    const body = new RegExp('```log ' + tag + '\\n([\\s\\S]*?)\\n```').exec(contract)?.[1];
    assert.ok(body, `a \`\`\`log ${tag} block in es-ne-contract.md`);
    return body.split('\n').filter((l) => l.trim() !== '');
  };
  const execGuardKinds = block('execguard').map((line) => {
    const parsed = parseExecGuardLine(line);
    assert.ok(parsed, `parseExecGuardLine reads the contract's line: ${line}`);
    return parsed.kind;
  });
  assert.deepEqual(execGuardKinds, ['started', 'failed', 'deny', 'allow']);
  const flowGateKinds = block('flowgate').map((line) => {
    const parsed = parseFlowGateMessage(line);
    assert.ok(parsed, `parseFlowGateMessage reads the contract's line: ${line}`);
    return parsed.kind;
  });
  assert.deepEqual(flowGateKinds, ['started', 'flow', 'flow', 'dns']);
  // The encoded value in the example decodes as the contract says (%20 is a space, - is none).
  assert.deepEqual(parseExecGuardLine(block('execguard')[3]!), { kind: 'allow', path: '/tmp/my tool', signingId: null, pid: 7, cached: true });
});
