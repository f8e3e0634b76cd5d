// sw_vers in the macOS 11+ layout (§6.2): `Key:` then TABs then the value; `-productVersion` etc. print the bare value.
import type { Tool } from './context.ts';

export const swVers: Tool = ({ mac, argv, out, err }) => {
  const { productName, productVersion, buildVersion } = mac.config.macos;
  if (argv.length === 0) {
    out(`ProductName:\t\t${productName}\nProductVersion:\t\t${productVersion}\nBuildVersion:\t\t${buildVersion}\n`);
    return 0;
  }
  const values: Record<string, string> = { productname: productName, productversion: productVersion, buildversion: buildVersion };
  const value = argv.length === 1 ? values[argv[0]!.replace(/^--?/, '').toLowerCase()] : undefined;
  if (value === undefined) {
    err('Usage: sw_vers [--productName|--productVersion|--productVersionExtra|--buildVersion]\n');
    return 1;
  }
  out(`${value}\n`);
  return 0;
};
