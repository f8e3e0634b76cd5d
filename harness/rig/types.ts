// What a rig has (resources), as resolved from its YAML file: kept apart from the drivers that act
// on it (power/, host/) and from the strategies that bring it to a state (rig/connect.ts).
import type { SshTarget } from '../host/ssh.ts';

export interface UsbIdentity {
  vendorId: number;
  productId: number;
  product?: string;
  manufacturer?: string;
  serial?: string;
  bcdDevice?: number;
  speed?: 'low' | 'full' | 'high' | 'super';
}

export interface EndpointSpec {
  address: number;
  type: 'bulk' | 'interrupt' | 'isochronous' | 'control';
  maxPacketSize?: number;
}

export interface InterfaceSpec {
  number: number;
  class: number;
  subclass?: number;
  protocol?: number;
  endpoints: EndpointSpec[];
}

/** devices/<name>.yaml */
export interface DeviceProfile {
  file: string;
  name: string;
  description?: string;
  usb: UsbIdentity;
  interfaces: InterfaceSpec[];
  /** The driver that should match this device. */
  driver?: {
    bundle: string;
    userClass: string;
    provider?: 'IOUSBHostDevice' | 'IOUSBHostInterface';
  };
  /** Absolute path of the device's own extension .proto (channel, later issue). */
  proto?: string;
  emulation?: {
    sim?: { model: string };
  };
  /** How a Linux board with a USB device controller plays this device (harness/emulate). */
  emulate?: EmulateSpec;
}

/** A configfs gadget function: the kernel's function drivers (usb_f_ss_lb, usb_f_acm, usb_f_hid, usb_f_fs). */
export type GadgetFunctionSpec =
  | 'loopback'
  | 'sourcesink'
  | 'acm'
  | { hid: { reportDescriptor: string; protocol?: number; subclass?: number; reportLength: number } }
  | { ffs: { name: string } };

export interface EmulateSpec {
  functions: GadgetFunctionSpec[];
  /** The device controller to bind to; default the board's only one (/sys/class/udc). */
  udc?: string;
  /** The configuration's bMaxPower, in mA. */
  maxPower?: number;
}

/** An extension the rig or a scenario declares: a bundle id and the build that carries it. */
export interface ExtensionDecl {
  bundle: string;
  /** Absolute path of a bare .dext build (wrapped into the activator app on the Mac). */
  dext?: string;
  /** Absolute path of an app that carries the extension in Contents/Library/SystemExtensions. */
  app?: string;
  /** Absolute path of a bare .systemextension build (ES or NE; wrapped into the activator app on the Mac). */
  systemExtension?: string;
  /** Expected "short/bundle" version, e.g. "1.0.0/1", when the scenario pins one. */
  version?: string;
  /** Team id, when it differs from the rig's signing team. */
  team?: string;
  /** Settings delivered as JSON to /Users/Shared/dextbench/config/<bundle>.json before activation (contract §2). */
  config?: Record<string, unknown>;
}

export interface SimSettings {
  sip: 'enabled' | 'disabled';
  developerMode: boolean;
  teamId: string;
  macos: { productName: string; productVersion: string; buildVersion: string };
  approvedTeams: string[];
  /** team id -> bundle ids pre-approved, as an MDM system-extension-policy would. */
  approvedExtensions: Record<string, string[]>;
  timing?: Partial<Record<'enumerateMs' | 'matchMs' | 'activateMs' | 'relaunchMs', number>>;
  /** Who serves the simulated dext's channel: the C library, its TypeScript twin, or auto. */
  dextServer?: 'auto' | 'c' | 'ts';
  /** Simulated device io speed in MB/s. */
  ioMBps?: number;
  /** Whether the Xcode command line tools are installed (default true). */
  commandLineTools?: boolean;
  /** The admin password `sudo -S` takes (default dextbench-sim). */
  adminPassword?: string;
  /** Formulae installed with Homebrew (default: uhubctl is). */
  homebrew?: { uhubctl: boolean };
  /** Command paths sudo -n runs without a password, as a provisioned sudoers drop-in allows them. */
  passwordlessSudo?: string[];
  /** Full Disk Access grants (bundle ids, tool names such as eslogger), as an MDM TCC payload would. */
  tcc?: { fullDiskAccess: string[] };
  /** Filter provider bundle ids a com.apple.webcontent-filter payload approves. */
  webContentFilter?: string[];
  /** `profiles install` stands in for the MDM push: MDM-only payloads install too (default false). */
  profilesInstallAsMdm?: boolean;
  /** The simulated network: name → IPv4, listening sockets ("ip:port/tcp|udp"), the DNS server's address. */
  network?: { hosts?: Record<string, string>; listening?: string[]; dnsServer?: string };
}

export type RigHost =
  | { kind: 'local' }
  /** The simulated Mac, run on this machine; with `ssh`, reached over that (loopback) sshd. */
  | { kind: 'sim'; sim: SimSettings; ssh?: SshTarget }
  | { kind: 'ssh'; ssh: SshTarget };

export type HubSpec = UhubctlHubSpec | CambrionixHubSpec | GadgetHubSpec | YkushHubSpec;

export interface UhubctlHubSpec {
  id: string;
  driver: 'uhubctl';
  /** uhubctl location, e.g. "1-1" or "2-1.4". */
  location: string;
  ports?: number;
}

/** A Cambrionix hub driven over its serial CLI, from the machine running dextbench. */
export interface CambrionixHubSpec {
  id: string;
  driver: 'cambrionix';
  /** Its serial device, e.g. /dev/cu.usbserial-DN004ABC. */
  serial: string;
  ports: number;
  /** Its USB location in uhubctl's form ("2-1.4"), so devices behind it get a locationID. */
  location?: string;
}

/**
 * A Linux board with a USB device controller on one of the Mac's ports, playing the device on its
 * one port (1) from that device profile's `emulate:` section: plug binds the gadget, unplug unbinds it.
 */
export interface GadgetHubSpec {
  id: string;
  driver: 'gadget';
  /** Where the board's commands run: this machine, or the board over ssh (independent of the Mac's transport). */
  board: 'local' | SshTarget;
  /** The board's device controller; wins over the profile's emulate.udc. */
  udc?: string;
  /** Every board command runs through `sudo -n` (configfs needs root). */
  sudo: boolean;
}

/** A Yepkit YKUSH driven over its HID control interface, from the machine its upstream port is plugged into. */
export interface YkushHubSpec {
  id: string;
  driver: 'ykush';
  /** The board's USB serial string (e.g. YK20001); needed only when several YKUSH boards are attached. */
  serial?: string;
  /** Its downstream ports (default: the board says, with command 0xf1). */
  ports?: number;
  /** Its USB location in uhubctl's form ("1-1.2"), so devices behind it get a locationID. */
  location?: string;
}

export interface RigDevice {
  role: string;
  profile: DeviceProfile;
  port: { hub: string; port: number };
}

/** rigs/<name>.yaml */
export interface RigDefinition {
  file: string;
  name: string;
  description?: string;
  host: RigHost;
  signing: { identity: string; team?: string };
  activator: { command: string[] };
  /** The channel bridge command (argv before --match). */
  bridge: { command: string[] };
  /** The ES probe command (argv before the action); absent: `dextbench-esprobe` on the PATH. */
  esprobe?: { command: string[] };
  privileged: { sudo: boolean };
  hubs: HubSpec[];
  devices: RigDevice[];
  extensions: Record<string, ExtensionDecl>;
  vars: Record<string, string>;
  /** The rig's lease: how long it outlives a holder that stopped renewing, how long a run waits
   *  for another holder, and the shared folder on the host (default /Users/Shared/dextbench/leases). */
  reservation: { ttlMs: number; waitMs: number; dir?: string };
  /** Absolute path of the rig's health-check scenario (rig/health.ts). */
  health?: string;
  /** Rigs of one class are interchangeable: an infrastructure failure is retried on another of them. */
  class?: string;
}
