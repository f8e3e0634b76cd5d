// Endpoint Security on the simulated Mac: the NOTIFY events its processes raise (the eslogger shim
// subscribes to them), and the ES clients its ES system extensions run. A client models ExecGuard
// (contract §5/§6): es_new_client succeeds only with Full Disk Access for the extension's bundle
// (sim config tcc.fullDiskAccess, or an installed TCC payload: profile-grants.ts), asked at each
// start, so a grant or a revocation counts from the client's next start; its AUTH_EXEC policy is the
// extension's delivered config (§2), re-read on every decision; it logs its lines in the unified
// log. While no client runs (crashed, between versions, not activated) every AUTH is allowed, as
// on macOS.
import { createHash } from 'node:crypto';
import { readExtensionConfig } from './extension-config.ts';
import { logValue } from './log-value.ts';
import { extensionLogSource, extensionProcesses, onExtensionStarted } from './extension-processes.ts';
import type { Mac } from './mac.ts';
import { hasFullDiskAccess } from './profile-grants.ts';
import { ENDPOINT_SECURITY_CATEGORY, type ExtensionProcess } from './state.ts';

/** What an es_process_t says about a process. */
export interface EsProc {
  pid: number;
  ppid: number;
  path: string;
  signingId: string | null;
  teamId: string | null;
  platform: boolean;
  uid: number;
  /** Bumped by every exec of the pid (audit_token pidversion). */
  pidversion: number;
  startTime: string;
}

export type EsNotify =
  | { type: 'exec'; process: EsProc; target: EsProc; args: string[]; cwd: string }
  | { type: 'fork'; process: EsProc; child: EsProc }
  | { type: 'exit'; process: EsProc; stat: number }
  | { type: 'open'; process: EsProc; path: string; fflag: number }
  | { type: 'create'; process: EsProc; path: string; existed: boolean }
  | { type: 'unlink'; process: EsProc; path: string }
  | { type: 'rename'; process: EsProc; path: string; to: string; existed: boolean }
  | { type: 'signal'; process: EsProc; sig: number; target: EsProc }
  | { type: 'mount'; process: EsProc; onName: string; fromName: string; fsType: string };

interface Client {
  proc: ExtensionProcess;
  /** es_new_client succeeded. */
  started: boolean;
  /** Allowed paths the kernel answers from its cache (ExecGuard responds with cache: true). */
  cache: Set<string>;
  /** The config the cache was filled under: a change clears it (ExecGuard calls es_clear_cache). */
  configKey: string;
}

interface EsWorld {
  listeners: Set<(e: EsNotify) => void>;
  /** By pid: a relaunched extension is a new client. */
  clients: Map<number, Client>;
}

const worlds = new WeakMap<Mac, EsWorld>();

function world(mac: Mac): EsWorld {
  let w = worlds.get(mac);
  if (!w) worlds.set(mac, w = { listeners: new Set(), clients: new Map() });
  return w;
}

/** Subscribes to every NOTIFY event (eslogger); returns the unsubscribe. */
export function subscribeEs(mac: Mac, listener: (e: EsNotify) => void): () => void {
  const w = world(mac);
  w.listeners.add(listener);
  return () => w.listeners.delete(listener);
}

export function emitEs(mac: Mac, event: EsNotify): void {
  for (const listener of world(mac).listeners) listener(event);
}

export interface EsPolicy {
  denyExec: string[];
  denySigningIds: string[];
  /** The config was read and is a JSON object (ExecGuard caches allows only then). */
  valid: boolean;
  key: string;
}

/** denyExec / denySigningIds from the extension's delivered config (contract §2, §6). */
export function readPolicy(mac: Mac, bundle: string): EsPolicy {
  const read = readExtensionConfig(mac, bundle);
  if (!read.found || 'problem' in read) return { denyExec: [], denySigningIds: [], valid: false, key: read.found ? `problem:${read.problem}` : 'none' };
  const list = (x: unknown): string[] => (Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : []);
  return {
    denyExec: list(read.config['denyExec']), denySigningIds: list(read.config['denySigningIds']), valid: true,
    key: createHash('sha1').update(JSON.stringify(read.config)).digest('hex'),
  };
}

/** ExecGuard names itself in its lines by its CFBundleName. */
function nameOf(mac: Mac, proc: ExtensionProcess): string {
  return mac.state.extensions.find((r) => r.uuid === proc.uuid)?.name ?? proc.bundle;
}

function logPolicy(mac: Mac, proc: ExtensionProcess, message: string, type?: 'Error'): void {
  mac.log.append(extensionLogSource(proc), message, { subsystem: proc.bundle, category: 'policy', ...(type ? { type } : {}) });
}

/** es_new_client as the extension calls it at start: it needs Full Disk Access (config or profile). */
function newClient(mac: Mac, proc: ExtensionProcess, log: boolean): Client {
  const permitted = hasFullDiskAccess(mac, proc.bundle);
  if (log && permitted) logPolicy(mac, proc, `${nameOf(mac, proc)} started: es_new_client ES_NEW_CLIENT_RESULT_SUCCESS`);
  if (log && !permitted) logPolicy(mac, proc, `${nameOf(mac, proc)} failed: es_new_client ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED`, 'Error');
  const client: Client = { proc, started: permitted, cache: new Set(), configKey: '' };
  world(mac).clients.set(proc.pid, client);
  return client;
}

onExtensionStarted(ENDPOINT_SECURITY_CATEGORY, (mac, proc) => { newClient(mac, proc, true); });

/**
 * The clients of the ES extension processes that run now. A process that started before this
 * daemon did (a resumed Mac) gets its client without a second start line.
 */
function clients(mac: Mac): Client[] {
  const w = world(mac);
  const running = extensionProcesses(mac).filter((p) => p.category === ENDPOINT_SECURITY_CATEGORY);
  const alive = new Set(running.map((p) => p.pid));
  for (const pid of [...w.clients.keys()]) if (!alive.has(pid)) w.clients.delete(pid);
  return running.map((p) => w.clients.get(p.pid) ?? newClient(mac, p, false));
}

export type AuthVerdict = { allowed: true } | { allowed: false; by: string };

/** AUTH_EXEC: every running client decides, one deny denies; no client running: allowed (macOS). */
export function authExec(mac: Mac, target: EsProc): AuthVerdict {
  let verdict: AuthVerdict = { allowed: true };
  for (const client of clients(mac)) {
    if (!client.started) continue;
    const policy = readPolicy(mac, client.proc.bundle);
    if (policy.key !== client.configKey) { client.cache.clear(); client.configKey = policy.key; }
    const rule = policy.denyExec.includes(target.path) ? 'path'
      : target.signingId !== null && policy.denySigningIds.includes(target.signingId) ? 'signing_id' : undefined;
    const fields = `path=${logValue(target.path)} signing_id=${logValue(target.signingId)} pid=${target.pid}`;
    if (rule) {
      // Denies are never cached: every attempt reaches the client and is logged.
      logPolicy(mac, client.proc, `deny exec ${fields} rule=${rule}`);
      verdict = { allowed: false, by: client.proc.bundle };
    } else if (!client.cache.has(target.path)) {
      // Cached allows are answered by the kernel without asking the client again (no line).
      logPolicy(mac, client.proc, `allow exec ${fields} cached=${policy.valid}`);
      if (policy.valid) client.cache.add(target.path);
    }
  }
  return verdict;
}
