// The configuration profile `dextbench profile` writes, read back by Python's plistlib (what
// macOS tooling scripts use; python3 lane) and by dextbench's own plist reader: every key, every
// type, fresh UUIDs, and names that need escaping.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parsePlist, type PlistValue } from '../../../harness/host/parsers/index.ts';
import { buildMobileconfig, ProfileInputError, type ProfileRequest } from '../../../harness/profile/mobileconfig.ts';
import { writePlistXml } from '../../../harness/profile/plist-xml.ts';
import { lane, NEEDS } from '../../support/lane.ts';

const python = { skip: lane('profile read back by plistlib', [NEEDS.python3]) };

const TEAM = 'ABCDE12345';
const NAME = 'CI rig & "desk" <mini-3> \'quoted\'';
const ES_REQUIREMENT = 'identifier "com.example.esguard.extension" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */';
const full: ProfileRequest = {
  team: TEAM,
  dexts: ['com.example.echo.driver'],
  es: ['com.example.esguard.extension'],
  neFilters: ['com.example.flowfilter.ne', 'com.example.netguard.app.filter'],
  removable: true,
  name: NAME,
  codeRequirements: { 'com.example.esguard.extension': ES_REQUIREMENT },
  filterApps: { 'com.example.netguard.app.filter': 'com.example.NetGuard' },
};

// A value with its plist type, the same from Python and from TypeScript.
type Typed = { string: string } | { bool: boolean } | { integer: string } | { array: Typed[] } | { dict: [string, Typed][] };

// plistlib.loads, then every value tagged with the plist type it was read as (bool before int:
// in Python a bool is an int). Keys keep document order.
const PLISTLIB = `
import json, plistlib, sys
def tag(v):
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"integer": str(v)}
    if isinstance(v, str): return {"string": v}
    if isinstance(v, list): return {"array": [tag(x) for x in v]}
    if isinstance(v, dict): return {"dict": [[k, tag(x)] for k, x in v.items()]}
    raise SystemExit("unexpected plist type %s" % type(v).__name__)
print(json.dumps(tag(plistlib.loads(sys.stdin.buffer.read()))))
`;

function readWithPlistlib(xml: string): Typed {
  const r = spawnSync('python3', ['-c', PLISTLIB], { input: xml, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Typed;
}

function tagged(value: PlistValue): Typed {
  if (typeof value === 'string') return { string: value };
  if (typeof value === 'boolean') return { bool: value };
  if (typeof value === 'bigint') return { integer: value.toString() };
  if (Array.isArray(value)) return { array: value.map(tagged) };
  if (typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) return { dict: Object.entries(value).map(([k, v]) => [k, tagged(v)]) };
  throw new Error(`unexpected plist value ${String(value)}`);
}

const s = (v: string): Typed => ({ string: v });
const b = (v: boolean): Typed => ({ bool: v });
const one: Typed = { integer: '1' };
const arr = (...items: Typed[]): Typed => ({ array: items });
const dict = (entries: Record<string, Typed>): Typed => ({ dict: Object.entries(entries) });
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

/** Every PayloadUUID in document order, replaced by "<uuid>" in the returned tree. */
function takeUuids(value: Typed, uuids: string[]): Typed {
  if ('array' in value) return { array: value.array.map((v) => takeUuids(v, uuids)) };
  if ('dict' in value) {
    return {
      dict: value.dict.map(([k, v]): [string, Typed] => {
        if (k === 'PayloadUUID' && 'string' in v) { uuids.push(v.string); return [k, s('<uuid>')]; }
        return [k, takeUuids(v, uuids)];
      }),
    };
  }
  return value;
}

const requirement = (bundle: string) => `identifier "${bundle}" and anchor apple generic and certificate leaf[subject.OU] = "${TEAM}"`;
const header = (type: string, identifier: string) => ({ PayloadType: s(type), PayloadIdentifier: s(identifier), PayloadUUID: s('<uuid>'), PayloadVersion: one });
const bundles = arr(s('com.example.echo.driver'), s('com.example.esguard.extension'), s('com.example.flowfilter.ne'), s('com.example.netguard.app.filter'));
const filter = (bundle: string, app: string) => dict({
  ...header('com.apple.webcontent-filter', `dextbench.rig.${TEAM}.webcontent-filter.${bundle}`),
  FilterType: s('Plugin'),
  UserDefinedName: s(bundle),
  PluginBundleID: s(app),
  FilterSockets: b(true),
  FilterPackets: b(false),
  FilterDataProviderBundleIdentifier: s(bundle),
  FilterDataProviderDesignatedRequirement: s(requirement(bundle)),
  FilterGrade: s('firewall'),
});
const expectedFull = dict({
  PayloadType: s('Configuration'),
  PayloadScope: s('System'),
  PayloadIdentifier: s(`dextbench.rig.${TEAM}`),
  PayloadUUID: s('<uuid>'),
  PayloadVersion: one,
  PayloadDisplayName: s(NAME),
  PayloadContent: arr(
    dict({
      ...header('com.apple.system-extension-policy', `dextbench.rig.${TEAM}.system-extension-policy`),
      AllowedSystemExtensions: dict({ [TEAM]: bundles }),
      AllowedSystemExtensionTypes: dict({ [TEAM]: arr(s('DriverExtension'), s('EndpointSecurityExtension'), s('NetworkExtension')) }),
      RemovableSystemExtensions: dict({ [TEAM]: bundles }),
    }),
    dict({
      ...header('com.apple.TCC.configuration-profile-policy', `dextbench.rig.${TEAM}.tcc`),
      Services: dict({
        SystemPolicyAllFiles: arr(dict({
          Identifier: s('com.example.esguard.extension'),
          IdentifierType: s('bundleID'),
          CodeRequirement: s(ES_REQUIREMENT),
          StaticCode: b(false),
          Allowed: b(true),
        })),
      }),
    }),
    filter('com.example.flowfilter.ne', 'com.example.flowfilter'),
    filter('com.example.netguard.app.filter', 'com.example.NetGuard'),
  ),
});

function checkFull(read: Typed): string[] {
  const uuids: string[] = [];
  assert.deepEqual(takeUuids(read, uuids), expectedFull);
  assert.equal(uuids.length, 5, 'the profile and its four payloads');
  for (const uuid of uuids) assert.match(uuid, UUID);
  assert.equal(new Set(uuids).size, uuids.length, 'every UUID distinct');
  return uuids;
}

test('every payload and key, read back by plistlib with its type; UUIDs fresh and distinct, also between two runs', python, () => {
  const first = buildMobileconfig(full);
  assert.deepEqual(first.payloadTypes, ['com.apple.system-extension-policy', 'com.apple.TCC.configuration-profile-policy', 'com.apple.webcontent-filter', 'com.apple.webcontent-filter']);
  const a = checkFull(readWithPlistlib(first.xml));
  const b2 = checkFull(readWithPlistlib(buildMobileconfig(full).xml));
  assert.deepEqual(a.filter((u) => b2.includes(u)), [], 'a second run has none of the first run\'s UUIDs');
});

test('dextbench\'s own plist reader reads the same profile, integers exact', () => {
  const { xml } = buildMobileconfig(full);
  checkFull(tagged(parsePlist(xml)));
  // The escaped characters are written as entities, never raw inside an element.
  assert.ok(xml.includes('<string>CI rig &amp; &quot;desk&quot; &lt;mini-3&gt; \'quoted\'</string>'), xml);
});

test('no bundle named: the whole team is allowed through AllowedTeamIdentifiers, and the team is nowhere else', python, () => {
  const { xml, payloadTypes } = buildMobileconfig({ team: TEAM, dexts: [], es: [], neFilters: [], removable: false });
  assert.deepEqual(payloadTypes, ['com.apple.system-extension-policy']);
  const uuids: string[] = [];
  const read = takeUuids(readWithPlistlib(xml), uuids);
  assert.deepEqual(read, dict({
    PayloadType: s('Configuration'),
    PayloadScope: s('System'),
    PayloadIdentifier: s(`dextbench.rig.${TEAM}`),
    PayloadUUID: s('<uuid>'),
    PayloadVersion: one,
    PayloadDisplayName: s(`dextbench rig (${TEAM})`),
    PayloadContent: arr(dict({
      ...header('com.apple.system-extension-policy', `dextbench.rig.${TEAM}.system-extension-policy`),
      AllowedTeamIdentifiers: arr(s(TEAM)),
    })),
  }));
});

test('named bundles: the team is a key of AllowedSystemExtensions and never under AllowedTeamIdentifiers; no RemovableSystemExtensions without --removable', () => {
  const policy = (parsePlist(buildMobileconfig({ team: TEAM, dexts: ['com.example.echo.driver', 'com.example.echo.driver'], es: [], neFilters: [], removable: false }).xml) as { PayloadContent: Record<string, PlistValue>[] }).PayloadContent[0]!;
  assert.deepEqual(Object.keys(policy), ['PayloadType', 'PayloadIdentifier', 'PayloadUUID', 'PayloadVersion', 'AllowedSystemExtensions', 'AllowedSystemExtensionTypes']);
  assert.deepEqual(policy['AllowedSystemExtensions'], { [TEAM]: ['com.example.echo.driver'] }, 'a bundle given twice is listed once');
  assert.deepEqual(policy['AllowedSystemExtensionTypes'], { [TEAM]: ['DriverExtension'] });
});

test('--manual-only: the content filters alone, the payloads a person may install by hand', () => {
  const { xml, payloadTypes } = buildMobileconfig({ team: TEAM, dexts: [], es: [], neFilters: ['com.example.flowfilter.ne'], removable: false, manualOnly: true });
  assert.deepEqual(payloadTypes, ['com.apple.webcontent-filter']);
  const content = (parsePlist(xml) as { PayloadContent: Record<string, PlistValue>[] }).PayloadContent;
  assert.deepEqual(content.map((p) => p['PayloadType']), ['com.apple.webcontent-filter']);
});

test('requests that cannot make a valid profile: one line naming the option', () => {
  const base: ProfileRequest = { team: TEAM, dexts: [], es: [], neFilters: [], removable: false };
  const cases: [Partial<ProfileRequest>, string][] = [
    [{ team: 'abcde12345' }, '--team: "abcde12345" is not a team id: 10 upper-case letters and digits, like ABCDE12345'],
    [{ team: 'ABCDE1234' }, '--team: "ABCDE1234" is not a team id: 10 upper-case letters and digits, like ABCDE12345'],
    [{ dexts: ['echo'] }, '--dext: "echo" is not a bundle id: reverse-DNS letters, digits and hyphens, like com.example.echo.driver'],
    [{ es: ['com.example..es'] }, '--es: "com.example..es" is not a bundle id: reverse-DNS letters, digits and hyphens, like com.example.echo.driver'],
    [{ neFilters: ['com.example filter'] }, '--ne-filter: "com.example filter" is not a bundle id: reverse-DNS letters, digits and hyphens, like com.example.echo.driver'],
    [{ dexts: ['com.example.x'], es: ['com.example.x'] }, 'com.example.x is given as --dext and as --es: an extension is of one kind'],
    [{ removable: true }, '--removable lists bundles under RemovableSystemExtensions: name them with --dext, --es or --ne-filter'],
    [{ dexts: ['com.example.x'], codeRequirements: { 'com.example.x': 'anchor apple' } }, '--code-requirement: com.example.x is not an --es or --ne-filter bundle of this profile (only those carry a requirement)'],
    [{ neFilters: ['com.example'] }, '--ne-filter: the app that contains com.example cannot be derived from its id; give it with --filter-app com.example=APP_BUNDLE_ID'],
    [{ neFilters: ['com.example.f'], filterApps: { 'com.example.f': 'app' } }, '--filter-app: "app" is not a bundle id: reverse-DNS, like com.example.filter'],
    [{ manualOnly: true }, '--manual-only writes the content-filter payloads, the only ones a person may install: name them with --ne-filter'],
    [{ manualOnly: true, neFilters: ['com.example.f.ne'], dexts: ['com.example.d'] }, '--manual-only leaves out the payloads only MDM can deliver, which --dext ask for: write those in a profile of their own'],
    [{ name: 'bell \u0007' }, 'cannot write the profile: PayloadDisplayName: U+0007 cannot be written in an XML property list'],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => buildMobileconfig({ ...base, ...change }), (e: unknown) => e instanceof ProfileInputError && e.message === message, message);
  }
});

test('the writer: a carriage return survives a read back; integers stay exact; what XML cannot carry is refused', python, () => {
  const xml = writePlistXml({ text: 'a\r\nb\t"c"', big: 18446744073709551615n, list: [], empty: {} });
  assert.deepEqual(readWithPlistlib(xml), dict({ text: s('a\r\nb\t"c"'), big: { integer: '18446744073709551615' }, list: arr(), empty: dict({}) }));
  assert.deepEqual(tagged(parsePlist(xml)), readWithPlistlib(xml));
  assert.throws(() => writePlistXml({ x: ['\uD800'] }), /^PlistWriteError: x\[0\]: U\+D800 cannot be written in an XML property list$/);
  assert.throws(() => writePlistXml({ n: 2 ** 53 }), /n: 9007199254740992 is not an exact integer/);
});
