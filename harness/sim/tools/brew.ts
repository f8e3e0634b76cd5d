// brew on the simulated Mac: `--prefix`, `list [uhubctl]` and `install uhubctl`, the parts
// `dextbench provision` uses. Only uhubctl is a formula here (../homebrew.ts).
// Homebrew's words are as remembered, not from the reference (unconfirmed); dextbench reads only
// the exit status of `brew list <formula>` and `brew install`, and the prefix `brew --prefix` prints.
import { HOMEBREW_PREFIX, installUhubctl, uhubctlInstalled, UHUBCTL_VERSION } from '../homebrew.ts';
import type { Tool } from './context.ts';

const KEG = `${HOMEBREW_PREFIX}/Cellar/uhubctl/${UHUBCTL_VERSION}`;
const MODELLED = 'the simulated Mac\'s Homebrew has one formula, uhubctl';

export const brew: Tool = ({ mac, argv, out, err }) => {
  const [command, ...rest] = argv;
  const formulae = rest.filter((a) => !a.startsWith('-'));
  switch (command) {
    case '--prefix':
      if (formulae.length === 0) { out(`${HOMEBREW_PREFIX}\n`); return 0; }
      out(formulae.map((f) => `${HOMEBREW_PREFIX}/opt/${f}\n`).join(''));
      return 0;
    case 'list': case 'ls':
      if (formulae.length === 0) { if (uhubctlInstalled(mac)) out('uhubctl\n'); return 0; }
      for (const formula of formulae) {
        if (formula !== 'uhubctl' || !uhubctlInstalled(mac)) { err(`Error: No such keg: ${HOMEBREW_PREFIX}/Cellar/${formula}\n`); return 1; }
      }
      out(`${KEG}/bin/uhubctl\n${KEG}/share/man/man1/uhubctl.1\n`);
      return 0;
    case 'install': {
      if (formulae.length === 0) { err('Error: Invalid usage: This command requires at least 1 formula or cask argument.\n'); return 1; }
      const unknown = formulae.find((f) => f !== 'uhubctl');
      if (unknown) { err(`Error: No available formula with the name "${unknown}" (${MODELLED}).\n`); return 1; }
      if (uhubctlInstalled(mac)) {
        err(`Warning: uhubctl ${UHUBCTL_VERSION} is already installed and up-to-date.\nTo reinstall ${UHUBCTL_VERSION}, run:\n  brew reinstall uhubctl\n`);
        return 0;
      }
      installUhubctl(mac);
      out(`==> Fetching uhubctl\n==> Pouring uhubctl--${UHUBCTL_VERSION}.arm64_sequoia.bottle.tar.gz\n🍺  ${KEG}: 8 files, 96.1KB\n`);
      return 0;
    }
    case undefined:
      err('Example usage:\n  brew search TEXT|/REGEX/\n  brew info [FORMULA|CASK...]\n  brew install FORMULA|CASK...\n  brew list [FORMULA|CASK...]\n');
      return 1;
    default:
      err(`Error: Unknown command: ${command} (${MODELLED}: --prefix, list and install are modelled)\n`);
      return 1;
  }
};
