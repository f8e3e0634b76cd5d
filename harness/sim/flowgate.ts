// The NE content filter on the simulated Mac: FlowGate's behaviour (dext-fixtures/flowgate), acted
// out for whichever filter provider is enabled and running. Its rules come from the config the
// harness delivers (es-ne contract §2), re-read on every decision; its verdicts are unified log
// lines (§5) under the provider's bundle id as subsystem (FlowGate's is com.example.flowgate),
// category filter, from the provider's process.
import { readFileSync } from 'node:fs';
import type { LogSource } from './log.ts';
import { logValue } from './log-value.ts';
import type { Mac } from './mac.ts';
import { enabledFilters, onFilterEnabled } from './content-filter.ts';
import { extensionConfigPath } from './extension-config.ts';
import { extensionLogSource, onExtensionStarted, runningExtension } from './extension-processes.ts';
import { NETWORK_EXTENSION_CATEGORY } from './state.ts';

const CATEGORY = 'filter';

export type Protocol = 'tcp' | 'udp';
export type FlowAction = 'allow' | 'drop';

interface Rule {
  action: FlowAction;
  host?: string;
  port?: number;
  protocol?: Protocol;
  dnsName?: string;
}

/** The filter provider that sees flows now: enabled in NEFilterManager and its process running. */
export interface RunningFilter {
  bundle: string;
  source: LogSource;
}

/**
 * The provider whose filter is on: its NEFilterManager configuration is enabled (the activator's
 * `filter enable`) and its system extension process runs. While it is down (crashed, between
 * versions), flows pass unfiltered.
 */
export function runningFilter(mac: Mac): RunningFilter | undefined {
  for (const bundle of enabledFilters(mac)) {
    const proc = runningExtension(mac, bundle);
    if (proc?.category === NETWORK_EXTENSION_CATEGORY) return { bundle, source: extensionLogSource(proc) };
  }
  return undefined;
}

// startFilter runs when the provider's process starts (also after a crash) with its filter enabled.
onExtensionStarted(NETWORK_EXTENSION_CATEGORY, (mac, proc) => {
  if (enabledFilters(mac).includes(proc.bundle)) logStarted(mac, { bundle: proc.bundle, source: extensionLogSource(proc) });
});

// …and when its filter is turned on while the provider already runs.
onFilterEnabled((mac, bundle) => {
  const proc = runningExtension(mac, bundle);
  if (proc?.category === NETWORK_EXTENSION_CATEGORY) logStarted(mac, { bundle, source: extensionLogSource(proc) });
});

/** The rules FlowGate last loaded, per provider: a bad config keeps them, as FlowGate does. */
const lastRules = new WeakMap<Mac, Map<string, { text: string; rules: Rule[] }>>();

/** `{ rules: [...] }` checked as FlowGate's parseRules checks it; a string says what is wrong. */
function parseRules(text: string): Rule[] | string {
  let map: unknown;
  try { map = JSON.parse(text); } catch { return 'expected a JSON object'; }
  if (!map || typeof map !== 'object' || Array.isArray(map)) return 'expected a JSON object';
  const list = (map as Record<string, unknown>)['rules'];
  if (list === undefined) return [];
  if (!Array.isArray(list)) return 'rules must be an array of objects';
  const rules: Rule[] = [];
  for (const [index, entry] of list.entries()) {
    const at = `rules[${index}]`;
    if (!entry || typeof entry !== 'object') return 'rules must be an array of objects';
    const e = entry as Record<string, unknown>;
    if (e['action'] !== 'allow' && e['action'] !== 'drop') return `${at}.action must be allow or drop`;
    const unknown = Object.keys(e).find((k) => !['action', 'host', 'port', 'protocol', 'dnsName'].includes(k));
    if (unknown) return `${at} has an unknown key ${unknown}`;
    const rule: Rule = { action: e['action'] };
    if (e['host'] !== undefined) {
      if (typeof e['host'] !== 'string' || !e['host']) return `${at}.host must be a name or an address`;
      rule.host = e['host'];
    }
    if (e['port'] !== undefined) {
      if (!Number.isInteger(e['port']) || (e['port'] as number) < 1 || (e['port'] as number) > 65535) return `${at}.port must be 1-65535`;
      rule.port = e['port'] as number;
    }
    if (e['protocol'] !== undefined) {
      if (e['protocol'] !== 'tcp' && e['protocol'] !== 'udp') return `${at}.protocol must be tcp or udp`;
      rule.protocol = e['protocol'];
    }
    if (e['dnsName'] !== undefined) {
      if (typeof e['dnsName'] !== 'string' || !e['dnsName']) return `${at}.dnsName must be a name`;
      if (rule.host !== undefined || rule.port !== undefined || rule.protocol !== undefined) return `${at}: dnsName is a rule of its own (no host, port or protocol)`;
      rule.dnsName = e['dnsName'];
    }
    rules.push(rule);
  }
  return rules;
}

function logLine(mac: Mac, filter: RunningFilter, message: string, type?: 'Error'): void {
  mac.log.append(filter.source, message, { subsystem: filter.bundle, category: CATEGORY, ...(type ? { type } : {}) });
}

/** The rules as FlowGate holds them now: the config file re-read, logged when it changed. */
export function currentRules(mac: Mac, filter: RunningFilter): Rule[] {
  const path = `/Users/Shared/dextbench/config/${filter.bundle}.json`;
  let perMac = lastRules.get(mac);
  if (!perMac) lastRules.set(mac, perMac = new Map());
  const last = perMac.get(filter.bundle);
  let text: string;
  try {
    text = readFileSync(extensionConfigPath(mac, filter.bundle), 'utf8');
  } catch {
    // No config: no rules (FlowGate's loadRules), everything is allowed.
    text = '';
  }
  if (last && last.text === text) return last.rules;
  const parsed = text === '' ? [] : parseRules(text);
  if (typeof parsed === 'string') {
    logLine(mac, filter, `config error file=${logValue(path)} ${parsed}; keeping the previous rules`, 'Error');
    perMac.set(filter.bundle, { text, rules: last?.rules ?? [] });
    return last?.rules ?? [];
  }
  if (last || parsed.length) logLine(mac, filter, `config loaded file=${logValue(path)} rules=${parsed.length}`);
  perMac.set(filter.bundle, { text, rules: parsed });
  return parsed;
}

/** The filter's start line (startFilter → apply settings → `FlowGate started rules=<n>`). */
export function logStarted(mac: Mac, filter: RunningFilter): void {
  logLine(mac, filter, `FlowGate started rules=${currentRules(mac, filter).length}`);
}

const norm = (name: string): string => name.toLowerCase().replace(/\.$/, '');

export interface FlowFacts {
  address: string;
  port: number;
  protocol: Protocol;
  /** What the app asked for, or the name FlowGate saw a DNS answer give for the address. */
  hostname?: string;
  pid: number;
}

/** handleNewFlow: first matching rule wins, no match allows; one verdict line per flow. */
export function flowVerdict(mac: Mac, filter: RunningFilter, flow: FlowFacts): FlowAction {
  const rule = currentRules(mac, filter).find((r) => r.dnsName === undefined &&
    (r.host === undefined || norm(r.host) === norm(flow.address) || (flow.hostname !== undefined && norm(r.host) === norm(flow.hostname))) &&
    (r.port === undefined || r.port === flow.port) &&
    (r.protocol === undefined || r.protocol === flow.protocol));
  const action = rule?.action ?? 'allow';
  logLine(mac, filter, `verdict=${action} protocol=${flow.protocol} remote=${logValue(`${flow.address}:${flow.port}`)} hostname=${logValue(flow.hostname)} pid=${flow.pid}`);
  return action;
}

/** handleOutboundData on a port-53 flow: the query's question against the dnsName rules. */
export function dnsVerdict(mac: Mac, filter: RunningFilter, question: string, pid: number): 'allow' | 'drop' {
  const rule = currentRules(mac, filter).find((r) => r.dnsName !== undefined && (norm(question) === norm(r.dnsName) || norm(question).endsWith(`.${norm(r.dnsName)}`)));
  const verdict = rule?.action ?? 'allow';
  logLine(mac, filter, `dns verdict=${verdict} name=${logValue(question)} pid=${pid}`);
  return verdict;
}
