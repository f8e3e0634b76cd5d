// The property lists shipped in dext-fixtures/activator and dext-fixtures/echo: well-formed XML
// plists with the keys the activator, sysextd and the kernel's matching read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/** A strict reader for the XML plist subset these files use; throws on anything else. */
function parsePlist(xml: string): PlistValue {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/^<!DOCTYPE plist[^>]*>\s*/, '');
  const tokens = body.match(/<[^>]+>|[^<]+/g) ?? [];
  let i = 0;
  const next = (): string => {
    while (i < tokens.length && tokens[i]!.trim() === '') i++;
    const token = tokens[i++];
    if (token === undefined) throw new Error('unexpected end of plist');
    return token;
  };
  const text = (close: string): string => {
    let content = '';
    if (!tokens[i]?.startsWith('<')) content = tokens[i++]!;
    if (tokens[i++] !== close) throw new Error(`expected ${close}`);
    return content.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  const value = (open: string): PlistValue => {
    switch (open) {
      case '<string>': return text('</string>');
      case '<integer>': {
        const digits = text('</integer>');
        if (!/^-?\d+$/.test(digits)) throw new Error(`bad integer ${digits}`);
        return Number(digits);
      }
      case '<true/>': return true;
      case '<false/>': return false;
      case '<array>': {
        const items: PlistValue[] = [];
        for (let t = next(); t !== '</array>'; t = next()) items.push(value(t));
        return items;
      }
      case '<dict>': {
        const dict: { [key: string]: PlistValue } = {};
        for (let t = next(); t !== '</dict>'; t = next()) {
          if (t !== '<key>') throw new Error(`expected <key>, got ${t}`);
          const key = text('</key>');
          if (key in dict) throw new Error(`duplicate key ${key}`);
          dict[key] = value(next());
        }
        return dict;
      }
      default: throw new Error(`unsupported element ${open}`);
    }
  };
  if (next() !== '<plist version="1.0">') throw new Error('expected <plist version="1.0">');
  const root = value(next());
  if (next() !== '</plist>') throw new Error('expected </plist>');
  if (tokens.slice(i).some((t) => t.trim() !== '')) throw new Error('content after </plist>');
  return root;
}

const read = (path: string) => parsePlist(readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8'));

test('the reader rejects what is not a plist', () => {
  assert.throws(() => parsePlist('<plist version="1.0"><dict><key>a</key></dict></plist>'));
  assert.throws(() => parsePlist('<plist version="1.0"><dict><key>a</key><string>x</string><key>a</key><true/></dict></plist>'));
  assert.throws(() => parsePlist('<plist version="1.0"><dict><key>a</key><string>x</dict></plist>'));
  assert.deepEqual(parsePlist('<plist version="1.0"><dict><key>a</key><array><integer>7</integer><false/></array></dict></plist>'), { a: [7, false] });
});

test('activator Info.plist: an app bundle named dev.dextbench.activator whose executable build.sh produces', () => {
  assert.deepEqual(
    { ...(read('dext-fixtures/activator/Info.plist') as object) },
    {
      CFBundleDevelopmentRegion: 'en',
      CFBundleExecutable: 'DextbenchActivator',
      CFBundleIdentifier: 'dev.dextbench.activator',
      CFBundleInfoDictionaryVersion: '6.0',
      CFBundleName: 'DextbenchActivator',
      CFBundlePackageType: 'APPL',
      CFBundleShortVersionString: '1.0.0',
      CFBundleVersion: '1',
      LSMinimumSystemVersion: '10.15',
      LSUIElement: true,
    },
  );
  // system-extension.install for OSSystemExtensionRequest; networkextension for NEFilterManager (filter verbs).
  assert.deepEqual(read('dext-fixtures/activator/DextbenchActivator.entitlements'), {
    'com.apple.developer.networking.networkextension': ['content-filter-provider'],
    'com.apple.developer.system-extension.install': true,
  });
});

test('echo Info.plist: the dext identity and the IOKitPersonalities the device profile expects', () => {
  const info = read('dext-fixtures/echo/Info.plist') as Record<string, PlistValue>;
  assert.equal(info.CFBundleIdentifier, 'com.example.echo.driver');
  assert.equal(info.CFBundlePackageType, 'DEXT');
  assert.equal(info.CFBundleExecutable, 'com.example.echo.driver');
  assert.equal(info.CFBundleShortVersionString, '1.0.0');
  assert.equal(info.CFBundleVersion, '1');
  const personalities = info.IOKitPersonalities as Record<string, Record<string, PlistValue>>;
  assert.deepEqual(Object.keys(personalities), ['EchoDriver']);
  assert.deepEqual(personalities.EchoDriver, {
    CFBundleIdentifier: 'com.example.echo.driver',
    CFBundleIdentifierKernel: 'com.apple.kpi.iokit',
    IOClass: 'IOUserService',
    IOProviderClass: 'IOUSBHostDevice',
    IOUserClass: 'EchoDriver',
    IOUserServerName: 'com.example.echo.driver',
    idVendor: 0x1d6b,
    idProduct: 0x0104,
    UserClientProperties: { IOClass: 'IOUserUserClient', IOUserClass: 'EchoUserClient' },
  });
});

test('echo entitlements: DriverKit, USB transport for the vendor, any user client', () => {
  assert.deepEqual(read('dext-fixtures/echo/EchoDriver.entitlements'), {
    'com.apple.developer.driverkit': true,
    'com.apple.developer.driverkit.transport.usb': [{ idVendor: 0x1d6b }],
    'com.apple.developer.driverkit.allow-any-userclient-access': true,
  });
});
