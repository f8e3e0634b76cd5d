// The dextbench-activator launcher (dext-fixtures/activator), run on Linux: no PlistBuddy here,
// so plists go through its python3 fallback; codesign and the built app are fakes that record
// their argv (NUL-separated) so the test can compare it byte for byte.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lane, NEEDS } from '../../support/lane.ts';

const root = new URL('../../../', import.meta.url).pathname;
const activatorDir = join(root, 'dext-fixtures/activator');
const launcher = join(activatorDir, 'dextbench-activator');
// The launcher is a bash script; without PlistBuddy it reads plists with python3.
const opts = { skip: lane('activator launcher', [NEEDS.bash, NEEDS.python3]) };
const work = mkdtempSync(join(tmpdir(), 'dextbench activator $x '));
after(() => rmSync(work, { recursive: true, force: true }));

const recordArgv = `#!/bin/sh\nprintf '%s\\0' "$0" "$@" >> "$DXB_TEST_LOG"\nprintf '\\n' >> "$DXB_TEST_LOG"\n`;

function fakeApp(dir: string): string {
  const app = join(dir, 'DextbenchActivator.app');
  mkdirSync(join(app, 'Contents/MacOS'), { recursive: true });
  mkdirSync(join(app, 'Contents/Resources'), { recursive: true });
  copyFileSync(join(activatorDir, 'Info.plist'), join(app, 'Contents/Info.plist'));
  copyFileSync(join(activatorDir, 'DextbenchActivator.entitlements'), join(app, 'Contents/Resources/DextbenchActivator.entitlements'));
  const exe = join(app, 'Contents/MacOS/DextbenchActivator');
  writeFileSync(exe, `${recordArgv}echo '{"event":"finished","bundle":"x","result":"completed"}'\n`);
  chmodSync(exe, 0o755);
  return app;
}

function fakeDext(dir: string, name: string, bundleId: string | undefined): string {
  const dext = join(dir, name);
  mkdirSync(dext, { recursive: true });
  const id = bundleId === undefined ? '' : `<key>CFBundleIdentifier</key><string>${bundleId}</string>`;
  writeFileSync(join(dext, 'Info.plist'), `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>${id}<key>CFBundleShortVersionString</key><string>1.0.0</string></dict></plist>
`);
  writeFileSync(join(dext, bundleId ?? 'driver'), 'binary');
  return dext;
}

interface Setup { dir: string; bin: string; app: string; log: string; staging: string }

function setup(name: string, codesignExit = 0): Setup {
  const dir = join(work, name);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const codesign = join(bin, 'codesign');
  writeFileSync(codesign, codesignExit === 0
    ? recordArgv
    : `#!/bin/sh\necho "some chatter" >&2\necho "$1: errSecInternalComponent" >&2\nexit ${codesignExit}\n`);
  chmodSync(codesign, 0o755);
  return { dir, bin, app: fakeApp(dir), log: join(dir, 'argv.log'), staging: join(dir, `stag ing "q" 'it' $HOME`) };
}

function run(s: Setup, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(launcher, args, {
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      ...process.env,
      PATH: `${s.bin}:${process.env.PATH}`,
      DXB_TEST_LOG: s.log,
      DEXTBENCH_ACTIVATOR_APP: s.app,
      DEXTBENCH_STAGING: s.staging,
      ...env,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every recorded command line: argv arrays, exactly as the programs received them. */
function calls(s: Setup): string[][] {
  if (!existsSync(s.log)) return [];
  return readFileSync(s.log, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\0').slice(0, -1));
}

function assertOneLine(stderr: string, pattern: RegExp) {
  assert.equal(stderr.split('\n').length, 2, `one line on stderr, got ${JSON.stringify(stderr)}`);
  assert.match(stderr, pattern);
}

test('usage errors exit 64 with one line on stderr and run nothing', opts, () => {
  const s = setup('usage');
  const dext = fakeDext(s.dir, 'E.dext', 'com.example.echo.driver');
  const cases: [string[], RegExp][] = [
    [[], /missing activate\|deactivate\|filter; usage: dextbench-activator activate\|deactivate \(--dext <X\.dext> \| --sysext <X\.systemextension> \| --app <Y\.app>\).*; dextbench-activator filter enable\|disable\|status/],
    [['install', '--dext', dext, '--bundle', 'a.b'], /unknown request 'install'/],
    [['activate', '--bundle', 'com.example.echo.driver'], /give --dext, --sysext or --app/],
    [['activate', '--dext', dext, '--app', s.app, '--bundle', 'a.b'], /give one of --dext, --sysext or --app, not several/],
    [['activate', '--dext', dext, '--sysext', dext, '--bundle', 'a.b'], /not several/],
    [['activate', '--sysext', dext, '--bundle', 'a.b', '--name', 'x'], /unknown argument '--name'/],
    [['filter'], /filter needs enable, disable or status/],
    [['filter', 'on', '--bundle', 'a.b'], /unknown filter request 'on'/],
    [['filter', 'enable'], /missing --bundle/],
    [['filter', 'enable', '--bundle', 'a.b', '--dext', dext], /unknown argument '--dext'/],
    [['filter', 'status', '--bundle', 'a.b', '--identity', '-'], /unknown argument '--identity'/],
    [['filter', 'disable', '--bundle', 'a.b', '--timeout', '-1'], /--timeout must be a positive number/],
    [['filter', 'enable', '--bundle', 'a.b', '--name', ''], /--name needs a non-empty value/],
    [['activate', '--dext', dext], /missing --bundle/],
    [['activate', '--dext', dext, '--bundle'], /--bundle needs a value/],
    [['activate', '--dext', dext, '--bundle', 'a/../b'], /invalid bundle id 'a\/\.\.\/b'/],
    [['activate', '--dext', dext, '--bundle', 'a.b', '--timeout', '0'], /--timeout must be a positive number/],
    [['activate', '--dext', dext, '--bundle', 'a.b', '--timeout', '1m'], /--timeout must be a positive number/],
    [['activate', '--dext', dext, '--bundle', 'a.b', '--verbose'], /unknown argument '--verbose'/],
    [['activate', 'stray', '--bundle', 'a.b'], /unknown argument 'stray'/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(s, args);
    assert.equal(r.status, 64, `${JSON.stringify(args)}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assertOneLine(r.stderr, pattern);
  }
  assert.deepEqual(calls(s), []);
});

test('wrapping errors are one line and exit 1', opts, () => {
  const s = setup('wrap-errors');
  const noPlist = join(s.dir, 'NoPlist.dext');
  mkdirSync(noPlist);
  const noId = fakeDext(s.dir, 'NoId.dext', undefined);
  const single = fakeDext(s.dir, 'Single.dext', 'driver');
  const other = fakeDext(s.dir, 'Other.dext', 'com.example.other.driver');
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['activate', '--dext', join(s.dir, 'Missing\nLine.dext'), '--bundle', 'a.b'], /^dextbench-activator: no such dext bundle: .*Missing\\nLine\.dext$/m],
    [['activate', '--dext', noPlist, '--bundle', 'a.b'], /NoPlist\.dext has no Info\.plist \(looked for Info\.plist and Contents\/Info\.plist\)/],
    [['activate', '--dext', noId, '--bundle', 'a.b'], /NoId\.dext\/Info\.plist has no CFBundleIdentifier/],
    [['activate', '--dext', other, '--bundle', 'com.example.echo.driver'], /has CFBundleIdentifier com\.example\.other\.driver, not --bundle com\.example\.echo\.driver/],
    [['activate', '--dext', single, '--bundle', 'driver'], /cannot derive an app bundle id from driver/],
    [['activate', '--dext', other, '--bundle', 'com.example.other.driver'], /DEXTBENCH_ACTIVATOR_BUNDLE_ID com\.example\.oth does not prefix/, { DEXTBENCH_ACTIVATOR_BUNDLE_ID: 'com.example.oth' }],
    [['activate', '--dext', other, '--bundle', 'com.example.other.driver'], /activator app not found at .*nowhere\.app: build it with/, { DEXTBENCH_ACTIVATOR_APP: join(s.dir, 'nowhere.app') }],
    [['deactivate', '--app', join(s.dir, 'Nope.app'), '--bundle', 'a.b'], /no such app bundle: .*Nope\.app/],
  ];
  for (const [args, pattern, env] of cases) {
    const r = run(s, args, env);
    assert.equal(r.status, 1, `${JSON.stringify(args)}: ${r.stderr}`);
    assertOneLine(r.stderr, pattern);
  }
  assert.deepEqual(calls(s), []);
});

test('a dext at a path with spaces, quotes and $ is wrapped, signed dext-then-app, and activated', opts, () => {
  const s = setup('wrap');
  const nasty = join(s.dir, `my "quoted" 'dext' $HOME \`x\``);
  const dext = fakeDext(nasty, 'EchoDriver.dext', 'com.example.echo.driver');
  const identity = 'Apple Development: Jane "JD" Doe (AB12$CD34)';
  const r = run(s, ['activate', '--dext', `${dext}/`, '--bundle', 'com.example.echo.driver', '--identity', identity, '--timeout', '2.5']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '{"event":"finished","bundle":"x","result":"completed"}\n');

  const stagedApp = join(s.staging, 'com.example.echo.driver/DextbenchActivator.app');
  const stagedDext = join(stagedApp, 'Contents/Library/SystemExtensions/com.example.echo.driver.dext');
  assert.equal(readFileSync(join(stagedDext, 'Info.plist'), 'utf8'), readFileSync(join(dext, 'Info.plist'), 'utf8'));
  assert.equal(readFileSync(join(stagedDext, 'com.example.echo.driver'), 'utf8'), 'binary');
  // The prefix rule: the dext's id minus its last component.
  assert.match(readFileSync(join(stagedApp, 'Contents/Info.plist'), 'utf8'), /<key>CFBundleIdentifier<\/key>\s*<string>com\.example\.echo<\/string>/);
  assert.match(readFileSync(join(s.app, 'Contents/Info.plist'), 'utf8'), /<string>dev\.dextbench\.activator<\/string>/, 'the template is untouched');

  assert.deepEqual(calls(s), [
    [join(s.bin, 'codesign'), '--force', '--sign', identity, '--timestamp=none', '--preserve-metadata=identifier,entitlements,flags', stagedDext],
    [join(s.bin, 'codesign'), '--force', '--sign', identity, '--timestamp=none', '--options', 'runtime', '--entitlements',
      join(s.app, 'Contents/Resources/DextbenchActivator.entitlements'), stagedApp],
    [join(stagedApp, 'Contents/MacOS/DextbenchActivator'), 'activate', '--bundle', 'com.example.echo.driver', '--timeout', '2.5'],
  ]);
});

test('re-wrapping replaces the staged copy; identity defaults to ad hoc; an override app id must prefix the dext id', opts, () => {
  const s = setup('rewrap');
  const stale = join(s.staging, 'com.example.echo.driver/DextbenchActivator.app/Contents/Library/SystemExtensions/old.dext');
  mkdirSync(stale, { recursive: true });
  const dext = fakeDext(s.dir, 'Contents-style.dext', 'com.example.echo.driver');
  // Contents/Info.plist layout is accepted too.
  mkdirSync(join(dext, 'Contents'));
  copyFileSync(join(dext, 'Info.plist'), join(dext, 'Contents/Info.plist'));
  rmSync(join(dext, 'Info.plist'));
  const r = run(s, ['deactivate', '--dext', dext, '--bundle=com.example.echo.driver'], { DEXTBENCH_ACTIVATOR_BUNDLE_ID: 'com.example' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(stale), false);
  const stagedApp = join(s.staging, 'com.example.echo.driver/DextbenchActivator.app');
  assert.match(readFileSync(join(stagedApp, 'Contents/Info.plist'), 'utf8'), /<string>com\.example<\/string>/);
  const argv = calls(s);
  assert.deepEqual(argv.map((c) => c[3]), ['-', '-', 'com.example.echo.driver']);
  assert.deepEqual(argv[2]!.slice(1), ['deactivate', '--bundle', 'com.example.echo.driver', '--timeout', '60']);
});

test('--app runs that app as it is, argv byte-exact; the app exit code passes through', opts, () => {
  const s = setup('app');
  const appDir = join(s.dir, `apps with "quotes" and $dollar`);
  mkdirSync(appDir);
  const app = fakeApp(appDir);
  const exe = join(app, 'Contents/MacOS/DextbenchActivator');
  writeFileSync(exe, `${recordArgv}echo '{"event":"needsUserApproval","bundle":"com.example.echo.driver"}'\nexit 3\n`);
  const r = run(s, ['activate', '--app', app, '--bundle', 'com.example.echo.driver', '--identity', 'ignored']);
  assert.equal(r.status, 3);
  assert.equal(r.stdout, '{"event":"needsUserApproval","bundle":"com.example.echo.driver"}\n');
  assert.deepEqual(calls(s), [[exe, 'activate', '--bundle', 'com.example.echo.driver', '--timeout', '60']]);
});

test('a codesign failure is one line naming the bundle and the reason, and nothing runs', opts, () => {
  const s = setup('codesign-fails', 1);
  const dext = fakeDext(s.dir, 'E.dext', 'com.example.echo.driver');
  const r = run(s, ['activate', '--dext', dext, '--bundle', 'com.example.echo.driver']);
  assert.equal(r.status, 1);
  assertOneLine(r.stderr, /^dextbench-activator: codesign failed for .*\/SystemExtensions\/com\.example\.echo\.driver\.dext: --force: errSecInternalComponent\n$/);
  assert.deepEqual(calls(s), []);
});

function fakeSysext(dir: string, name: string, bundleId: string, layout: 'deep' | 'shallow' = 'deep'): string {
  const sysext = join(dir, name);
  const contents = layout === 'deep' ? join(sysext, 'Contents') : sysext;
  mkdirSync(join(contents, 'MacOS'), { recursive: true });
  writeFileSync(join(contents, 'Info.plist'), `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>${bundleId}</string><key>NSEndpointSecurityMachServiceName</key><string>T.${bundleId}.xpc</string></dict></plist>
`);
  writeFileSync(join(contents, 'MacOS', bundleId), 'binary');
  return sysext;
}

test('--sysext wraps a deep bundle into SystemExtensions/<bundle>.systemextension, signs it then the app, and activates', opts, () => {
  const s = setup('sysext');
  const sysext = fakeSysext(join(s.dir, `built "es" $x`), 'ExecGuard-1.0.0.systemextension', 'com.example.execguard');
  const r = run(s, ['activate', '--sysext', sysext, '--bundle', 'com.example.execguard', '--timeout', '9']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const stagedApp = join(s.staging, 'com.example.execguard/DextbenchActivator.app');
  const staged = join(stagedApp, 'Contents/Library/SystemExtensions/com.example.execguard.systemextension');
  assert.equal(readFileSync(join(staged, 'Contents/Info.plist'), 'utf8'), readFileSync(join(sysext, 'Contents/Info.plist'), 'utf8'));
  assert.equal(readFileSync(join(staged, 'Contents/MacOS/com.example.execguard'), 'utf8'), 'binary');
  assert.match(readFileSync(join(stagedApp, 'Contents/Info.plist'), 'utf8'), /<key>CFBundleIdentifier<\/key>\s*<string>com\.example<\/string>/);
  assert.deepEqual(calls(s), [
    [join(s.bin, 'codesign'), '--force', '--sign', '-', '--timestamp=none', '--preserve-metadata=identifier,entitlements,flags', staged],
    [join(s.bin, 'codesign'), '--force', '--sign', '-', '--timestamp=none', '--options', 'runtime', '--entitlements',
      join(s.app, 'Contents/Resources/DextbenchActivator.entitlements'), stagedApp],
    [join(stagedApp, 'Contents/MacOS/DextbenchActivator'), 'activate', '--bundle', 'com.example.execguard', '--timeout', '9'],
  ]);
});

test('--sysext errors: a missing bundle, a shallow bundle (no Contents/Info.plist), another bundle id; one line, exit 1', opts, () => {
  const s = setup('sysext-errors');
  const shallow = fakeSysext(s.dir, 'Shallow.systemextension', 'com.example.flowgate', 'shallow');
  const other = fakeSysext(s.dir, 'Other.systemextension', 'com.example.other');
  const cases: [string[], RegExp][] = [
    [['activate', '--sysext', join(s.dir, 'Nope.systemextension'), '--bundle', 'a.b'], /no such system extension bundle: .*Nope\.systemextension$/m],
    [['activate', '--sysext', shallow, '--bundle', 'com.example.flowgate'], /Shallow\.systemextension has no Contents\/Info\.plist$/m],
    [['deactivate', '--sysext', other, '--bundle', 'com.example.flowgate'], /has CFBundleIdentifier com\.example\.other, not --bundle com\.example\.flowgate/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(s, args);
    assert.equal(r.status, 1, `${JSON.stringify(args)}: ${r.stderr}`);
    assertOneLine(r.stderr, pattern);
  }
  assert.deepEqual(calls(s), []);
});

test('filter runs the app staged for the bundle with filter <verb> --bundle --name --timeout; the default name; --app; nothing staged is one line', opts, () => {
  const s = setup('filter');
  const none = run(s, ['filter', 'enable', '--bundle', 'com.example.flowgate']);
  assert.equal(none.status, 1);
  assertOneLine(none.stderr, /no activator app staged for com\.example\.flowgate at .*com\.example\.flowgate\/DextbenchActivator\.app: activate the filter's system extension first \(dextbench-activator activate --sysext <X\.systemextension> --bundle com\.example\.flowgate\), or give --app$/m);
  assert.deepEqual(calls(s), []);

  const sysext = fakeSysext(s.dir, 'FlowGate.systemextension', 'com.example.flowgate');
  assert.equal(run(s, ['activate', '--sysext', sysext, '--bundle', 'com.example.flowgate']).status, 0);
  const exe = join(s.staging, 'com.example.flowgate/DextbenchActivator.app/Contents/MacOS/DextbenchActivator');
  writeFileSync(exe, `${recordArgv}echo '{"event":"filterSaved","bundle":"com.example.flowgate","enabled":true}'\n`);
  rmSync(s.log);

  const enabled = run(s, ['filter', 'enable', '--bundle', 'com.example.flowgate']);
  assert.equal(enabled.status, 0, enabled.stderr);
  assert.equal(enabled.stdout, '{"event":"filterSaved","bundle":"com.example.flowgate","enabled":true}\n');
  const name = `my "filter" $HOME ✓`;
  assert.equal(run(s, ['filter', 'status', '--bundle=com.example.flowgate', `--name=${name}`, '--timeout', '5']).status, 0);
  const other = fakeApp(join(s.dir, 'own app'));
  assert.equal(run(s, ['filter', 'disable', '--bundle', 'com.example.flowgate', '--app', other]).status, 0);
  assert.deepEqual(calls(s), [
    [exe, 'filter', 'enable', '--bundle', 'com.example.flowgate', '--name', 'dextbench com.example.flowgate', '--timeout', '60'],
    [exe, 'filter', 'status', '--bundle', 'com.example.flowgate', '--name', name, '--timeout', '5'],
    [join(other, 'Contents/MacOS/DextbenchActivator'), 'filter', 'disable', '--bundle', 'com.example.flowgate', '--name', 'dextbench com.example.flowgate', '--timeout', '60'],
  ]);

  // The app's exit code passes through (3: the filter needs approval).
  writeFileSync(exe, `#!/bin/sh\necho '{"event":"filterNeedsApproval","bundle":"com.example.flowgate","message":"m"}'\nexit 3\n`);
  assert.equal(run(s, ['filter', 'enable', '--bundle', 'com.example.flowgate']).status, 3);
});
