// ioreg: the text tree (§3.1–3.4, §3.6) and the archive plist (`-a`) of the simulated registry.
import { writePlist, type PDict, type PValue } from '../plist.ts';
import type { RegNode } from '../registry.ts';
import type { Tool, ToolContext } from './context.ts';

const FLAGS = 'abfilrtxsyz';
const WITH_VALUE = 'cdknpw';
const USAGE = 'usage: ioreg [-abfilrtx] [-c class] [-d depth] [-k key] [-n name] [-p plane] [-w width]\n';

interface Options {
  archive: boolean;
  props: boolean;
  rooted: boolean;
  hex: boolean;
  className?: string;
  name?: string;
  key?: string;
  depth: number;
  width: number;
  plane: 'IOService' | 'IOUSB';
}

function parse(argv: string[]): Options | string {
  const o: Options = { archive: false, props: false, rooted: false, hex: false, depth: Infinity, width: 80, plane: 'IOService' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg.length < 2) return `unexpected argument ${arg}`;
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!;
      if (WITH_VALUE.includes(c)) {
        const v = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
        if (v === undefined) return `option requires an argument -- ${c}`;
        if (c === 'c') o.className = v;
        else if (c === 'n') o.name = v;
        else if (c === 'k') o.key = v;
        else if (c === 'p') {
          if (v !== 'IOService' && v !== 'IOUSB') return `plane ${v} is not supported by the simulated Mac`;
          o.plane = v;
        } else {
          if (!/^\d+$/.test(v)) return `-${c} needs a number`;
          if (c === 'd') o.depth = Number(v) === 0 ? Infinity : Number(v);
          else o.width = Number(v) === 0 ? Infinity : Number(v);
        }
        break;
      }
      if (!FLAGS.includes(c)) return `illegal option -- ${c}`;
      if (c === 'a') o.archive = true;
      else if (c === 'l') o.props = true;
      else if (c === 'r') o.rooted = true;
      else if (c === 'x') o.hex = true;
    }
  }
  return o;
}

const SERVICE_CLASSES = (n: RegNode): boolean => n.className !== 'IORegistryEntry';

function isA(node: RegNode, cls: string): boolean {
  if (node.className === cls || cls === 'IORegistryEntry' || cls === 'OSObject') return true;
  if (cls === 'IOService') return SERVICE_CLASSES(node);
  if (cls === 'IOUserService') return node.className === 'IOUserService';
  return false;
}

function hasCriteria(o: Options): boolean {
  return o.className !== undefined || o.name !== undefined || o.key !== undefined;
}

function matches(o: Options, n: RegNode): boolean {
  return hasCriteria(o) &&
    (o.className === undefined || isA(n, o.className)) &&
    (o.name === undefined || n.name === o.name || `${n.name}@${n.location}` === o.name) &&
    (o.key === undefined || o.key in n.props);
}

function children(ctx: ToolContext, o: Options, n: RegNode): RegNode[] {
  const kids = ctx.mac.registry.children(n);
  return o.plane === 'IOUSB' ? kids.filter((k) => k.usbPlane) : kids;
}

function formatValue(v: PValue, hex: boolean): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (typeof v === 'bigint') return hex ? `0x${v.toString(16)}` : v.toString();
  if (typeof v === 'number') return hex && Number.isInteger(v) ? `0x${v.toString(16)}` : String(v);
  if (v instanceof Uint8Array) return `<${Buffer.from(v).toString('hex')}>`;
  if (Array.isArray(v)) return `(${v.map((x) => formatValue(x, hex)).join(',')})`;
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}=${formatValue(x, hex)}`).join(',')}}`;
}

function header(n: RegNode): string {
  const label = n.location !== undefined ? `${n.name}@${n.location}` : n.name;
  if (n.className === 'IORegistryEntry') return `${label}  <class ${n.className}, id ${n.id}, retain ${n.retain}>`;
  const busy = n.busyMs === null ? 'busy 0' : `busy 0 (${n.busyMs} ms)`;
  return `${label}  <class ${n.className}, id ${n.id}, ${n.registered ? '' : '!'}registered, ${n.matched ? '' : '!'}matched, active, ${busy}, retain ${n.retain}>`;
}

function text(ctx: ToolContext, o: Options): string[] {
  const lines: string[] = [];
  const tree = (n: RegNode, indent: string, last: boolean, level: number): void => {
    lines.push(`${indent}+-o ${header(n)}`);
    const inner = indent + (last ? '  ' : '| ');
    const kids = level < o.depth ? children(ctx, o, n) : [];
    if (o.props || matches(o, n)) {
      const p = inner + (kids.length ? '| ' : '  ');
      lines.push(`${p}{`);
      for (const [k, v] of Object.entries(n.props)) lines.push(`${p}  ${JSON.stringify(k)} = ${formatValue(v, o.hex)}`);
      lines.push(`${p}}`, p);
    }
    kids.forEach((k, i) => tree(k, inner, i === kids.length - 1, level + 1));
  };
  for (const root of roots(ctx, o)) tree(root, '', true, 1);
  const width = o.width;
  return lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}$` : l));
}

/** With -r: each object matching -c/-n/-k roots its own tree (matches inside it are not repeated). */
function roots(ctx: ToolContext, o: Options): RegNode[] {
  const root = ctx.mac.registry.root();
  if (!o.rooted || !hasCriteria(o)) return [root];
  const found: RegNode[] = [];
  const visit = (n: RegNode): void => {
    if (matches(o, n)) { found.push(n); return; }
    for (const k of children(ctx, o, n)) visit(k);
  };
  visit(root);
  return found;
}

function archive(ctx: ToolContext, o: Options, n: RegNode, level: number): PDict {
  const d: PDict = {
    ...n.props,
    IORegistryEntryName: n.name,
    IORegistryEntryID: BigInt(n.id),
    IOObjectClass: n.className,
    IOObjectRetainCount: BigInt(n.retain),
  };
  if (n.className !== 'IORegistryEntry') {
    d['IOServiceBusyState'] = 0n;
    d['IOServiceBusyTime'] = BigInt((n.busyMs ?? 0) * 1_000_000);
    d['IOServiceState'] = BigInt((n.registered ? 0x4 : 0) | (n.matched ? 0x2 : 0) | 0x1);
  }
  const kids = level < o.depth ? children(ctx, o, n) : [];
  if (kids.length) d['IORegistryEntryChildren'] = kids.map((k) => archive(ctx, o, k, level + 1));
  return d;
}

export const ioreg: Tool = (ctx) => {
  const o = parse(ctx.argv);
  if (typeof o === 'string') { ctx.err(`ioreg: ${o}\n${USAGE}`); return 1; }
  if (o.archive) {
    // Like the real tool: a single root dictionary, or with -r an array of the matched subtrees.
    const found = roots(ctx, o).map((n) => archive(ctx, o, n, 1));
    ctx.out(writePlist(o.rooted && hasCriteria(o) ? found : found[0]!));
    return 0;
  }
  const lines = text(ctx, o);
  if (lines.length) ctx.out(lines.join('\n') + '\n');
  return 0;
};

