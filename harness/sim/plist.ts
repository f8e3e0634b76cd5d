// XML property lists: a small reader (dext Info.plist files) and a writer (`ioreg -a`).
// Integers are bigint so registry ids and sessionIDs stay exact; data is Uint8Array.

export type PValue = string | boolean | bigint | number | Uint8Array | PValue[] | PDict;
export interface PDict { [key: string]: PValue }

export function isDict(v: PValue | undefined): v is PDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export class PlistError extends Error {}

interface Token { kind: 'open' | 'close' | 'empty' | 'text'; name: string; text: string }

function* tokens(xml: string): Generator<Token> {
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) { yield { kind: 'text', name: '', text: xml.slice(i) }; return; }
    if (lt > i) yield { kind: 'text', name: '', text: xml.slice(i, lt) };
    if (xml.startsWith('<!--', lt)) { i = xml.indexOf('-->', lt) + 3; if (i < 3) throw new PlistError('unterminated comment'); continue; }
    if (xml.startsWith('<?', lt) || xml.startsWith('<!', lt)) { i = xml.indexOf('>', lt) + 1; continue; }
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new PlistError('unterminated tag');
    const body = xml.slice(lt + 1, gt).trim();
    i = gt + 1;
    if (body.startsWith('/')) yield { kind: 'close', name: body.slice(1).trim(), text: '' };
    else if (body.endsWith('/')) yield { kind: 'empty', name: body.slice(0, -1).trim().split(/\s/)[0]!, text: '' };
    else yield { kind: 'open', name: body.split(/\s/)[0]!, text: '' };
  }
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}

/** Parse an XML plist document and return its top-level value. */
export function parsePlist(xml: string): PValue {
  const toks = [...tokens(xml)].filter((t) => !(t.kind === 'text' && t.text.trim() === ''));
  let pos = 0;
  const next = (): Token => {
    const t = toks[pos++];
    if (!t) throw new PlistError('unexpected end of document');
    return t;
  };
  const textUntilClose = (name: string): string => {
    let text = '';
    let t = next();
    if (t.kind === 'text') { text = t.text; t = next(); }
    if (t.kind !== 'close' || t.name !== name) throw new PlistError(`expected </${name}>`);
    return unescapeXml(text);
  };
  const value = (t: Token): PValue => {
    if (t.kind === 'empty') {
      if (t.name === 'true') return true;
      if (t.name === 'false') return false;
      if (t.name === 'string') return '';
      if (t.name === 'dict') return {};
      if (t.name === 'array') return [];
      if (t.name === 'data') return new Uint8Array();
      throw new PlistError(`unexpected <${t.name}/>`);
    }
    if (t.kind !== 'open') throw new PlistError(`unexpected ${t.kind === 'text' ? 'text' : `</${t.name}>`}`);
    switch (t.name) {
      case 'string': case 'date': return textUntilClose(t.name);
      case 'integer': {
        const s = textUntilClose('integer').trim();
        if (!/^[-+]?(0x[0-9a-fA-F]+|\d+)$/.test(s)) throw new PlistError(`bad integer ${s}`);
        return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s.replace(/^\+/, ''));
      }
      case 'real': return Number(textUntilClose('real'));
      case 'data': return new Uint8Array(Buffer.from(textUntilClose('data').replace(/\s+/g, ''), 'base64'));
      case 'true': textUntilClose('true'); return true;
      case 'false': textUntilClose('false'); return false;
      case 'array': {
        const out: PValue[] = [];
        for (let c = next(); !(c.kind === 'close' && c.name === 'array'); c = next()) out.push(value(c));
        return out;
      }
      case 'dict': {
        const out: PDict = {};
        for (let c = next(); !(c.kind === 'close' && c.name === 'dict'); c = next()) {
          if (c.kind !== 'open' || c.name !== 'key') throw new PlistError('expected <key> in <dict>');
          const key = textUntilClose('key');
          out[key] = value(next());
        }
        return out;
      }
      default: throw new PlistError(`unsupported element <${t.name}>`);
    }
  };
  const first = next();
  if (first.kind === 'open' && first.name === 'plist') {
    const v = value(next());
    const end = next();
    if (end.kind !== 'close' || end.name !== 'plist') throw new PlistError('expected </plist>');
    return v;
  }
  return value(first);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Serialize like `ioreg -a`: tab-indented XML, dictionary keys sorted. */
export function writePlist(root: PValue): string {
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
  ];
  const emit = (v: PValue, depth: number): void => {
    const pad = '\t'.repeat(depth);
    if (typeof v === 'string') lines.push(`${pad}<string>${escapeXml(v)}</string>`);
    else if (typeof v === 'boolean') lines.push(`${pad}<${v}/>`);
    else if (typeof v === 'bigint') lines.push(`${pad}<integer>${v}</integer>`);
    else if (typeof v === 'number') lines.push(Number.isInteger(v) ? `${pad}<integer>${v}</integer>` : `${pad}<real>${v}</real>`);
    else if (v instanceof Uint8Array) lines.push(`${pad}<data>${Buffer.from(v).toString('base64')}</data>`);
    else if (Array.isArray(v)) {
      if (v.length === 0) { lines.push(`${pad}<array/>`); return; }
      lines.push(`${pad}<array>`);
      for (const item of v) emit(item, depth + 1);
      lines.push(`${pad}</array>`);
    } else {
      const keys = Object.keys(v).sort();
      if (keys.length === 0) { lines.push(`${pad}<dict/>`); return; }
      lines.push(`${pad}<dict>`);
      for (const k of keys) { lines.push(`${pad}\t<key>${escapeXml(k)}</key>`); emit(v[k]!, depth + 1); }
      lines.push(`${pad}</dict>`);
    }
  };
  emit(root, 0);
  lines.push('</plist>');
  return lines.join('\n') + '\n';
}
