// An exact writer of XML property lists for configuration profiles: dict, array, string, bool and
// integer, nothing else. Written here rather than taken from npm: `plist` (5.0.0) writes through
// xmlbuilder and pulls in @xmldom/xmldom for a job of forty lines, and like the other npm plist
// packages it takes integers as JS numbers; a profile needs none of their other types. Refusing
// what XML 1.0 cannot carry (instead of writing a file macOS would reject) is the one subtle part.

export type ProfileValue = string | boolean | number | bigint | ProfileValue[] | ProfileDict;
export interface ProfileDict { [key: string]: ProfileValue }

export class PlistWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlistWriteError';
  }
}

// XML 1.0 Char: tab, newline, carriage return, and U+0020.. without surrogates, U+FFFE and U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Text content escaped for XML; a carriage return is written as a reference so parsers keep it. */
function escapeText(text: string, where: string): string {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new PlistWriteError(`${where || 'the root value'}: U+${code} cannot be written in an XML property list`);
  }
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;');
}

/** The document Apple's tools write: declaration, DOCTYPE, tab-indented, keys in the order given. */
export function writePlistXml(root: ProfileValue): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
  ];
  const emit = (value: ProfileValue, depth: number, where: string): void => {
    const pad = '\t'.repeat(depth);
    if (typeof value === 'string') lines.push(`${pad}<string>${escapeText(value, where)}</string>`);
    else if (typeof value === 'boolean') lines.push(`${pad}<${value}/>`);
    else if (typeof value === 'bigint') lines.push(`${pad}<integer>${value}</integer>`);
    else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new PlistWriteError(`${where}: ${value} is not an exact integer (pass a bigint)`);
      lines.push(`${pad}<integer>${value}</integer>`);
    } else if (Array.isArray(value)) {
      if (value.length === 0) { lines.push(`${pad}<array/>`); return; }
      lines.push(`${pad}<array>`);
      value.forEach((item, i) => emit(item, depth + 1, `${where}[${i}]`));
      lines.push(`${pad}</array>`);
    } else {
      const keys = Object.keys(value);
      if (keys.length === 0) { lines.push(`${pad}<dict/>`); return; }
      lines.push(`${pad}<dict>`);
      for (const key of keys) {
        const at = where ? `${where}.${key}` : key;
        lines.push(`${pad}\t<key>${escapeText(key, at)}</key>`);
        emit(value[key]!, depth + 1, at);
      }
      lines.push(`${pad}</dict>`);
    }
  };
  emit(root, 0, '');
  lines.push('</plist>');
  return lines.join('\n') + '\n';
}
