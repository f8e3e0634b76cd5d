// swiftc on the simulated Mac: `--version` with the command line tools installed; without them,
// /usr/bin/swiftc is the xcrun stub that asks for the tools to be installed and fails. It compiles
// nothing. The version line and the stub's words are plausible, not from the reference
// (unconfirmed); dextbench reads only the exit status and the "Apple Swift version" part.
import type { Tool } from './context.ts';

export const NO_DEVELOPER_TOOLS = 'xcode-select: note: No developer tools were found, requesting install.\n' +
  'If developer tools are located at a non-default location on disk, use `sudo xcode-select --switch path/to/Xcode.app` ' +
  'to specify the Xcode that you wish to use for command line developer tools, and cancel the installation dialog.\n' +
  'See `man xcode-select` for more details.\n';

export const swiftc: Tool = ({ mac, argv, out, err }) => {
  if (!mac.config.commandLineTools) {
    err(NO_DEVELOPER_TOOLS);
    return 1;
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-version')) {
    const major = mac.config.macos.productVersion.split('.')[0];
    out(`swift-driver version: 1.120.5 Apple Swift version 6.1 (swiftlang-6.1.0.110.21 clang-1700.0.13.3)\nTarget: arm64-apple-macosx${major}.0\n`);
    return 0;
  }
  err('swiftc: the simulated Mac compiles no Swift; only swiftc --version is modelled\n');
  return 1;
};
