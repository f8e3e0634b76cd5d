// `csrutil status` (reference/macos-formats.md §6.1, samples 6-A…6-E).

/** What `csrutil status` says. */
export interface CsrutilStatus {
  /** `unknown` also when the status line is missing (a paste of the Configuration block only, 6-E). */
  status: 'enabled' | 'disabled' | 'unknown';
  /** `Custom Configuration`, `Apple Internal`… */
  qualifier?: string;
  /** The `Configuration:` block: `Kext Signing` → true when `enabled`. */
  configuration: Record<string, boolean>;
}

const STATUS_LINE = /System Integrity Protection status: (\w+)(?: \(([^)]*)\))?\.?\s*$/;
const CONFIG_LINE = /^([A-Za-z][\w .-]*?):\s*(enabled|disabled)\s*$/;

/**
 * Parses `csrutil status`. Tolerates markdown quote markers (`> `), a leading `# `, and TAB or
 * space indentation of the Configuration lines.
 *
 * @throws Error when the text has neither a status line nor a configuration line.
 */
export function parseCsrutilStatus(text: string): CsrutilStatus {
  let status: CsrutilStatus['status'] | undefined;
  let qualifier: string | undefined;
  const configuration: Record<string, boolean> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/^\s*(?:>\s*)*(?:#\s*)?/, '').trim();
    const statusMatch = STATUS_LINE.exec(line);
    if (statusMatch) {
      const word = statusMatch[1]!.toLowerCase();
      status = word === 'enabled' || word === 'disabled' ? word : 'unknown';
      qualifier = statusMatch[2];
      continue;
    }
    const configMatch = CONFIG_LINE.exec(line);
    if (configMatch) configuration[configMatch[1]!] = configMatch[2] === 'enabled';
  }
  if (status === undefined && Object.keys(configuration).length === 0) {
    throw new Error(`not csrutil status output: no "System Integrity Protection status:" line (${clip(text)})`);
  }
  return { status: status ?? 'unknown', ...(qualifier !== undefined ? { qualifier } : {}), configuration };
}

function clip(text: string): string {
  const oneLine = text.trim().replace(/\s+/g, ' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 60)}…` : oneLine || 'empty';
}
