// xcode-select on the simulated Mac: `-p` prints the active developer directory, the command line
// tools' folder, or fails when the sim's `commandLineTools: false` says they are not installed.
// None of these words is in the reference: they are as public bug reports quote them, and the exit
// statuses are guesses (unconfirmed). dextbench decides from the exit status, not the words.
import type { Tool } from './context.ts';

export const COMMAND_LINE_TOOLS = '/Library/Developer/CommandLineTools';

const USAGE = `Usage: xcode-select [options]

Print or change the path to the active developer directory. This directory
controls which tools are used for the Xcode command line tools (for example,
xcodebuild) as well as the BSD development commands (such as cc and make).

Options:
  -h, --help                  print this help message and exit
  -p, --print-path            print the path of the active developer directory
  -s <path>, --switch <path>  set the path for the active developer directory
  --install                   open a dialog for installation of the command line developer tools
  -v, --version               print the xcode-select version
  -r, --reset                 reset to the default command line tools path
`;

export const xcodeSelect: Tool = ({ mac, argv, out, err }) => {
  const option = argv[0];
  if (argv.length !== 1) {
    err(argv.length === 0 ? `xcode-select: error: no command option given\n${USAGE}` : `xcode-select: error: invalid argument '${argv[1]}'\n${USAGE}`);
    return 1;
  }
  switch (option) {
    case '-p': case '--print-path': case '-print-path':
      if (!mac.config.commandLineTools) {
        err('xcode-select: error: unable to get active developer directory. Use `sudo xcode-select --switch path/to/Xcode.app` to set one (or see `man xcode-select`)\n');
        return 2;
      }
      out(`${COMMAND_LINE_TOOLS}\n`);
      return 0;
    case '--install':
      if (mac.config.commandLineTools) {
        err('xcode-select: error: command line tools are already installed, use "Software Update" in System Settings to install updates\n');
        return 1;
      }
      // On a Mac this opens a dialog someone must click through; nobody does on the simulated Mac.
      out('xcode-select: note: install requested for command line developer tools\n');
      return 0;
    case '-v': case '--version':
      out('xcode-select version 2409.\n');
      return 0;
    case '-h': case '--help':
      out(USAGE);
      return 0;
    default:
      err(`xcode-select: error: invalid argument '${option}'\n${USAGE}`);
      return 1;
  }
};
