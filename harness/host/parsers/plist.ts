// A small strict XML property-list parser. Written here rather than taken from npm because the
// common packages turn <integer> into a JS number, which rounds IORegistry ids, sessionID and
// values such as OSKernelCPUSubtype 18446744072635809794 (reference/macos-formats.md §3.6).

/** A property-list value. Every `<integer>` is a bigint (exact, any size, negative too). */
export type PlistValue =
  | string
  | bigint
  | number
  | boolean
  | Uint8Array
  | Date
  | PlistValue[]
  | PlistDict;

/** A `<dict>`: keys in document order. */
export interface PlistDict {
  [key: string]: PlistValue;
}

/**
 * Parses an XML property list (`<?xml…?>`, `<!DOCTYPE plist…>`, comments allowed) into its root
 * value. A bare root value without the `<plist>` wrapper is accepted too.
 *
 * @throws Error with a one-line message naming line:col for malformed input.
 */
export function parsePlist(xml: string): PlistValue {
  return new PlistReader(xml).document();
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][\w.:-]*/y;
const INTEGER = /^[+-]?(?:\d+|0[xX][0-9a-fA-F]+)$/;
const REAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

interface Tag {
  name: string;
  selfClosing: boolean;
  at: number;
}

class PlistReader {
  private pos = 0;

  private readonly text: string;

  constructor(text: string) {
    // A byte-order mark before the XML declaration is not content.
    this.text = text.replace(/^\uFEFF/, '');
  }

  document(): PlistValue {
    this.skipMisc();
    const open = this.openTag();
    let value: PlistValue;
    if (open.name === 'plist') {
      if (open.selfClosing) this.fail(open.at, '<plist/> holds no value');
      this.skipMisc();
      value = this.value(this.openTag());
      this.skipMisc();
      this.closeTag('plist');
    } else {
      value = this.value(open);
    }
    this.skipMisc();
    if (this.pos < this.text.length) this.fail(this.pos, 'unexpected content after the root value');
    return value;
  }

  private value(tag: Tag): PlistValue {
    switch (tag.name) {
      case 'dict':
        return this.dict(tag);
      case 'array':
        return this.array(tag);
      case 'string':
        return tag.selfClosing ? '' : this.textUntilClose('string');
      case 'true':
      case 'false':
        if (!tag.selfClosing) {
          this.skipWhitespace();
          this.closeTag(tag.name);
        }
        return tag.name === 'true';
      case 'integer': {
        const text = this.leafText(tag).trim();
        if (!INTEGER.test(text)) this.fail(tag.at, `<integer> holds "${clip(text)}", not an integer`);
        const negative = text.startsWith('-');
        const magnitude = BigInt(text.replace(/^[+-]/, ''));
        return negative ? -magnitude : magnitude;
      }
      case 'real': {
        const text = this.leafText(tag).trim();
        if (!REAL.test(text)) this.fail(tag.at, `<real> holds "${clip(text)}", not a number`);
        const lower = text.toLowerCase().replace(/^\+/, '');
        if (lower.endsWith('nan')) return Number.NaN;
        if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
        return Number(text);
      }
      case 'date': {
        const text = this.leafText(tag).trim();
        const date = new Date(text);
        if (!DATE.test(text) || Number.isNaN(date.getTime())) this.fail(tag.at, `<date> holds "${clip(text)}", not an ISO 8601 UTC date`);
        return date;
      }
      case 'data': {
        const text = this.leafText(tag).replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) this.fail(tag.at, '<data> is not valid base64');
        return new Uint8Array(Buffer.from(text, 'base64'));
      }
      default:
        return this.fail(tag.at, `unexpected <${tag.name}> where a value was expected`);
    }
  }

  private dict(tag: Tag): PlistDict {
    const dict: PlistDict = {};
    if (tag.selfClosing) return dict;
    for (;;) {
      this.skipMisc();
      if (this.text.startsWith('</', this.pos)) {
        this.closeTag('dict');
        return dict;
      }
      const keyTag = this.openTag();
      if (keyTag.name !== 'key') this.fail(keyTag.at, `expected <key> in <dict>, found <${keyTag.name}>`);
      const key = keyTag.selfClosing ? '' : this.textUntilClose('key');
      this.skipMisc();
      if (this.text.startsWith('</', this.pos)) this.fail(this.pos, `key "${clip(key)}" has no value`);
      const valueTag = this.openTag();
      if (valueTag.name === 'key') this.fail(valueTag.at, `key "${clip(key)}" has no value`);
      // Object.defineProperty keeps a key named __proto__ an ordinary own property.
      Object.defineProperty(dict, key, { value: this.value(valueTag), enumerable: true, writable: true, configurable: true });
    }
  }

  private array(tag: Tag): PlistValue[] {
    const items: PlistValue[] = [];
    if (tag.selfClosing) return items;
    for (;;) {
      this.skipMisc();
      if (this.text.startsWith('</', this.pos)) {
        this.closeTag('array');
        return items;
      }
      items.push(this.value(this.openTag()));
    }
  }

  /** Text of a leaf element (integer, real, date, data); a self-closing leaf is empty. */
  private leafText(tag: Tag): string {
    return tag.selfClosing ? '' : this.textUntilClose(tag.name);
  }

  /** Character data up to `</name>`, entities decoded; CDATA sections kept verbatim. */
  private textUntilClose(name: string): string {
    let out = '';
    for (;;) {
      const lt = this.text.indexOf('<', this.pos);
      if (lt < 0) this.fail(this.text.length, `</${name}> is missing`);
      out += this.decode(this.pos, lt);
      this.pos = lt;
      if (this.text.startsWith('<![CDATA[', lt)) {
        const end = this.text.indexOf(']]>', lt);
        if (end < 0) this.fail(lt, 'unterminated CDATA section');
        out += this.text.slice(lt + 9, end);
        this.pos = end + 3;
      } else if (this.text.startsWith('<!--', lt)) {
        this.comment();
      } else {
        this.closeTag(name);
        return out;
      }
    }
  }

  private decode(from: number, to: number): string {
    const raw = this.text.slice(from, to);
    return raw.replace(/&([^;&<\s]*);?/g, (whole, body: string, offset: number) => {
      const at = from + offset;
      if (!whole.endsWith(';')) this.fail(at, `bare "&" (write &amp;)`);
      if (body in ENTITIES) return ENTITIES[body]!;
      const numeric = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(body);
      if (numeric) {
        const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2]!, 10);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) this.fail(at, `invalid character reference &${body};`);
        return String.fromCodePoint(code);
      }
      return this.fail(at, `unknown entity &${body};`);
    });
  }

  private openTag(): Tag {
    const at = this.pos;
    if (this.text[this.pos] !== '<' || this.text[this.pos + 1] === '/') {
      if (this.pos >= this.text.length) this.fail(at, 'unexpected end of input');
      this.fail(at, this.text[this.pos] === '<' ? `unexpected closing tag ${this.peekTag()}` : 'expected an element');
    }
    this.pos++;
    const name = this.name();
    // Attributes (only <plist version="1.0"> in practice): checked for shape, otherwise ignored.
    for (;;) {
      const hadSpace = this.skipWhitespace();
      if (this.text.startsWith('/>', this.pos)) {
        this.pos += 2;
        return { name, selfClosing: true, at };
      }
      if (this.text[this.pos] === '>') {
        this.pos++;
        return { name, selfClosing: false, at };
      }
      if (!hadSpace) this.fail(this.pos, `malformed tag <${name}`);
      this.name();
      this.skipWhitespace();
      if (this.text[this.pos] !== '=') this.fail(this.pos, `attribute in <${name}> has no value`);
      this.pos++;
      this.skipWhitespace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(this.pos, `attribute value in <${name}> is not quoted`);
      const end = this.text.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(this.pos, `unterminated attribute value in <${name}>`);
      this.pos = end + 1;
    }
  }

  private closeTag(name: string): void {
    const at = this.pos;
    if (!this.text.startsWith('</', this.pos)) this.fail(at, `expected </${name}>`);
    this.pos += 2;
    const found = this.name();
    this.skipWhitespace();
    if (this.text[this.pos] !== '>') this.fail(this.pos, `malformed closing tag </${found}`);
    this.pos++;
    if (found !== name) this.fail(at, `expected </${name}>, found </${found}>`);
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const match = NAME.exec(this.text);
    if (!match) this.fail(this.pos, 'expected a tag name');
    this.pos += match[0].length;
    return match[0];
  }

  /** Skips whitespace, comments, the XML declaration, processing instructions and DOCTYPE. */
  private skipMisc(): void {
    for (;;) {
      this.skipWhitespace();
      if (this.text.startsWith('<!--', this.pos)) this.comment();
      else if (this.text.startsWith('<?', this.pos)) {
        const end = this.text.indexOf('?>', this.pos);
        if (end < 0) this.fail(this.pos, 'unterminated <? … ?>');
        this.pos = end + 2;
      } else if (this.text.startsWith('<!DOCTYPE', this.pos)) {
        const end = this.doctypeEnd();
        this.pos = end + 1;
      } else return;
    }
  }

  private doctypeEnd(): number {
    let quote: string | undefined;
    let depth = 0;
    for (let i = this.pos + 9; i < this.text.length; i++) {
      const c = this.text[i];
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '[') depth++;
      else if (c === ']') depth--;
      else if (c === '>' && depth <= 0) return i;
    }
    return this.fail(this.pos, 'unterminated <!DOCTYPE');
  }

  private comment(): void {
    const end = this.text.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail(this.pos, 'unterminated comment');
    this.pos = end + 3;
  }

  private skipWhitespace(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && /[ \t\r\n]/.test(this.text[this.pos]!)) this.pos++;
    return this.pos > start;
  }

  private peekTag(): string {
    const end = this.text.indexOf('>', this.pos);
    return clip(this.text.slice(this.pos, end < 0 ? undefined : end + 1));
  }

  private fail(offset: number, message: string): never {
    const before = this.text.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    throw new Error(`plist ${line}:${col}: ${message}`);
  }
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}
