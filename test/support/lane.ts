// The lane rule, for every test that needs a tool from outside npm (a C compiler, nanopb, python3,
// socat, sshd, …): a lane whose tools are missing is skipped, with one loud line on stderr that
// names the lane, what is missing and the Debian packages to install. Under CI=true (.ci/run) a
// missing lane is a failing test instead, so CI cannot go green by skipping.
//
//   const skip = lane('C channel library', C_TOOLCHAIN);
//   test('…', { skip }, () => { … });          // or describe('…', { skip }, …)
import { test } from 'node:test';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export interface Need {
  /** What the line calls it. */
  what: string;
  /** Present when any of these is: a command on PATH (a bare name) or a file (an absolute path; `*` stands for one folder name). */
  anyOf: string[];
  /** Also present when one of these environment variables is set (the Makefiles take them as overrides). */
  env?: string[];
  /** The Debian packages that provide it. */
  debian: string[];
}

/** The outside tools the tests use, each once. */
export const NEEDS = {
  cc: { what: 'cc', anyOf: ['cc'], debian: ['gcc'] },
  make: { what: 'make', anyOf: ['make'], debian: ['make'] },
  protoc: { what: 'protoc', anyOf: ['protoc'], debian: ['protobuf-compiler'] },
  nanopbGenerator: { what: 'nanopb_generator', anyOf: ['nanopb_generator', 'nanopb_generator.py'], env: ['NANOPB_GEN'], debian: ['nanopb'] },
  // Where dext-fixtures/libdextbench/nanopb.mk looks.
  nanopbHeaders: {
    what: 'pb.h',
    anyOf: ['/usr/include/pb.h', '/usr/local/include/pb.h', '/opt/homebrew/include/pb.h', '/opt/homebrew/include/nanopb/pb.h'],
    env: ['NANOPB_DIR', 'NANOPB_SRC'],
    debian: ['libnanopb-dev'],
  },
  nanopbRuntime: {
    what: 'libprotobuf-nanopb.a',
    anyOf: ['/usr/lib/*/libprotobuf-nanopb.a', '/usr/lib/libprotobuf-nanopb.a', '/usr/local/lib/libprotobuf-nanopb.a', '/opt/homebrew/lib/libprotobuf-nanopb.a'],
    env: ['NANOPB_LIB', 'NANOPB_SRC'],
    debian: ['libnanopb-dev'],
  },
  bash: { what: 'bash', anyOf: ['bash'], debian: ['bash'] },
  ps: { what: 'ps', anyOf: ['ps'], debian: ['procps'] },
  python3: { what: 'python3', anyOf: ['python3'], debian: ['python3'] },
  socat: { what: 'socat', anyOf: ['socat'], debian: ['socat'] },
  uhubctl: { what: 'uhubctl', anyOf: ['uhubctl', '/usr/sbin/uhubctl'], debian: ['uhubctl'] },
  sshd: { what: 'sshd', anyOf: ['sshd', '/usr/sbin/sshd'], debian: ['openssh-server'] },
  ssh: { what: 'ssh', anyOf: ['ssh'], debian: ['openssh-client'] },
  sshKeygen: { what: 'ssh-keygen', anyOf: ['ssh-keygen'], debian: ['openssh-client'] },
  perl: { what: 'perl', anyOf: ['/usr/bin/perl'], debian: ['perl-base'] },
  // JSON::PP is core perl but Debian ships it in perl-modules (package perl); dextbench-esprobe uses it.
  perlJsonPp: { what: 'perl JSON::PP', anyOf: ['/usr/share/perl/*/JSON/PP.pm', '/usr/share/perl5/JSON/PP.pm', '/usr/lib/perl5/*/JSON/PP.pm'], debian: ['perl'] },
  qemu: { what: 'qemu-system-x86_64', anyOf: ['qemu-system-x86_64'], debian: ['qemu-system-x86'] },
  // The guest boots the Debian kernel found by version (test/support/qemu/initramfs.ts), with its own dummy_hcd.
  linuxKernel: { what: 'a Linux kernel with dummy_hcd', anyOf: ['/lib/modules/*/kernel/drivers/usb/gadget/udc/dummy_hcd.ko'], debian: ['linux-image-amd64'] },
  busyboxStatic: { what: 'busybox', anyOf: ['/bin/busybox'], debian: ['busybox-static'] },
  // node-usb's hotplug events come from udevd's netlink group, in the guest too.
  udevd: { what: 'systemd-udevd', anyOf: ['/lib/systemd/systemd-udevd', '/usr/lib/systemd/systemd-udevd'], debian: ['udev'] },
  // Debian keeps the server's tools off PATH, under the major version (test/support/postgres.ts finds them).
  initdb: { what: 'initdb', anyOf: ['/usr/lib/postgresql/*/bin/initdb'], debian: ['postgresql'] },
  pgCtl: { what: 'pg_ctl', anyOf: ['/usr/lib/postgresql/*/bin/pg_ctl'], debian: ['postgresql'] },
  // The server refuses to run as root: as root, test/support/postgres.ts runs it as nobody.
  runuser: { what: 'runuser', anyOf: ['runuser', '/usr/sbin/runuser', '/sbin/runuser'], debian: ['util-linux'] },
  // playwright-core drives Debian's build (executablePath), not a browser Playwright downloads.
  chromium: { what: 'chromium', anyOf: ['/usr/bin/chromium'], debian: ['chromium'] },
} satisfies Record<string, Need>;

/** libdextbench and dext-fixtures/bridge built with make: the C channel, and the simulated Mac's C dext server. */
export const C_TOOLCHAIN: Need[] = [NEEDS.cc, NEEDS.make, NEEDS.protoc, NEEDS.nanopbGenerator, NEEDS.nanopbHeaders, NEEDS.nanopbRuntime];

/** A real OpenSSH server on 127.0.0.1 (npm run sim:sshd) and the client, for the ssh transport. */
export const SSH_LANE: Need[] = [NEEDS.sshd, NEEDS.ssh, NEEDS.sshKeygen, NEEDS.perl];

/** A QEMU guest with a real Linux USB stack (dummy_hcd, configfs gadgets) running the host's node: test/support/qemu/. */
export const QEMU_LANE: Need[] = [NEEDS.qemu, NEEDS.linuxKernel, NEEDS.busyboxStatic, NEEDS.udevd];

/** A PostgreSQL server started per test file in a temp folder (test/support/postgres.ts), for the history's server store. */
export const POSTGRES_LANE: Need[] = [NEEDS.initdb, NEEDS.pgCtl, ...(process.getuid?.() === 0 ? [NEEDS.runuser] : [])];

/** Debian's chromium, opened by playwright-core on the report dextbench writes (test/integration/cli/report-browser.test.ts). */
export const BROWSER_LANE: Need[] = [NEEDS.chromium];

/** Exactly what .ci/run sets. */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true';
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && isFile(join(dir, command), constants.X_OK));
}

function isFile(path: string, mode: number = constants.R_OK): boolean {
  try { accessSync(path, mode); return true; } catch { return false; }
}

/** `/usr/lib/*\/x.a`: `*` is one folder name. */
function pathExists(pattern: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return isFile(pattern);
  const parent = dirname(pattern.slice(0, star + 1));
  const after = pattern.indexOf('/', star);
  const rest = after < 0 ? '' : pattern.slice(after);
  let names: string[];
  try { names = readdirSync(parent); } catch { return false; }
  return names.some((name) => pathExists(join(parent, name) + rest));
}

function present(need: Need, env: NodeJS.ProcessEnv): boolean {
  if (need.env?.some((name) => env[name])) return true;
  return need.anyOf.some((entry) => (entry.startsWith('/') ? pathExists(entry) : onPath(entry, env)));
}

/** The needs that are absent here (empty when the lane can run). */
export function missingNeeds(needs: readonly Need[], env: NodeJS.ProcessEnv = process.env): Need[] {
  return needs.filter((need) => !present(need, env));
}

/** One line: the lane, what is missing, what to install. */
export function laneMessage(name: string, missing: readonly Need[]): string {
  const packages = [...new Set(missing.flatMap((n) => n.debian))].sort();
  return `lane "${name}" needs ${missing.map((n) => n.what).join(', ')}: apt-get install ${packages.join(' ')}`;
}

/**
 * The rule. False when every need is present; else the skip reason, after one loud line on
 * stderr. Under CI=true it also registers one failing test that names what is missing, and the
 * lane's own tests are skipped (rather than failing one by one on the missing tool). Call it once
 * per lane at the top of the file, outside any describe that it skips.
 */
export function lane(name: string, needs: readonly Need[], env: NodeJS.ProcessEnv = process.env): string | false {
  const missing = missingNeeds(needs, env);
  if (missing.length === 0) return false;
  const message = laneMessage(name, missing);
  if (underCi(env)) {
    console.error(`!!! FAILING (CI=true): ${message}`);
    test(`lane "${name}": its tools are installed (CI=true)`, () => {
      throw new Error(`${message} (.ci/run installs them; CI=true makes a missing lane a failure)`);
    });
  } else {
    console.error(`!!! SKIPPING: ${message}`);
  }
  return message;
}
