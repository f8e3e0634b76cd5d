// Minimal .systemextension builds for tests: Contents/Info.plist with the keys the sim and the steps
// read to tell an Endpoint Security extension from a Network Extension (contract §1).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SystemExtensionSpec {
  bundle: string;
  kind: 'es' | 'ne' | 'none';
  shortVersion?: string;
  bundleVersion?: string;
  name?: string;
  executable?: string;
}

/** Writes `<dir>/<file>` (a .systemextension folder) and returns its path. */
export function writeSystemExtension(dir: string, file: string, spec: SystemExtensionSpec): string {
  const path = join(dir, file);
  mkdirSync(join(path, 'Contents', 'MacOS'), { recursive: true });
  const keys: string[] = [
    `<key>CFBundleIdentifier</key><string>${spec.bundle}</string>`,
    `<key>CFBundleExecutable</key><string>${spec.executable ?? spec.bundle}</string>`,
    `<key>CFBundleName</key><string>${spec.name ?? spec.bundle}</string>`,
    `<key>CFBundlePackageType</key><string>SYSX</string>`,
    `<key>CFBundleShortVersionString</key><string>${spec.shortVersion ?? '1.0.0'}</string>`,
    `<key>CFBundleVersion</key><string>${spec.bundleVersion ?? '1'}</string>`,
  ];
  if (spec.kind === 'es') keys.push(`<key>NSEndpointSecurityMachServiceName</key><string>TEAMID.${spec.bundle}.xpc</string>`);
  if (spec.kind === 'ne') {
    keys.push('<key>NetworkExtension</key><dict><key>NEProviderClasses</key><dict>' +
      `<key>com.apple.networkextension.filter-data</key><string>$(PRODUCT_MODULE_NAME).FilterDataProvider</string></dict></dict>`);
  }
  writeFileSync(join(path, 'Contents', 'Info.plist'), '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    `<plist version="1.0">\n<dict>\n\t${keys.join('\n\t')}\n</dict>\n</plist>\n`);
  writeFileSync(join(path, 'Contents', 'MacOS', spec.executable ?? spec.bundle), '#!/bin/sh\n');
  return path;
}
