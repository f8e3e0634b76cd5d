// `sw_vers` (reference/macos-formats.md §6.2, samples 6-F…6-I).

/** What `sw_vers` prints. */
export interface SwVers {
  /** `macOS` (11+) or `Mac OS X`; '' when the line is missing (e.g. a grep of the output). */
  productName: string;
  /** `15.5`, `10.13` (no patch number on a major's first release). */
  productVersion: string;
  buildVersion: string;
  /** Rapid Security Response suffix such as `(a)`. */
  productVersionExtra?: string;
}

/** `Key:` + any TABs/spaces + value; one paste has a `sw_vers: ` prefix on the first line. */
const LINE = /^(?:sw_vers:\s*)?(\w+):\s+(.*?)\s*$/;

/**
 * Parses `sw_vers` output. The number of TABs after each key varies by release and paste, so
 * keys and values are split on any whitespace.
 *
 * @throws Error when no ProductName/ProductVersion/BuildVersion line is present.
 */
export function parseSwVers(text: string): SwVers {
  const fields = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const match = LINE.exec(rawLine.trim());
    if (match) fields.set(match[1]!, match[2]!);
  }
  const productName = fields.get('ProductName');
  const productVersion = fields.get('ProductVersion');
  const buildVersion = fields.get('BuildVersion');
  if (productName === undefined && productVersion === undefined && buildVersion === undefined) {
    throw new Error('not sw_vers output: no ProductName, ProductVersion or BuildVersion line');
  }
  const extra = fields.get('ProductVersionExtra');
  return {
    productName: productName ?? '',
    productVersion: productVersion ?? '',
    buildVersion: buildVersion ?? '',
    ...(extra !== undefined ? { productVersionExtra: extra } : {}),
  };
}
