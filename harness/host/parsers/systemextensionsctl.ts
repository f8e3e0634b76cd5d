// `systemextensionsctl list` output (reference/macos-formats.md §1). Live output is TAB-separated,
// but copies reach us with TABs turned into spaces or collapsed (1-F, 1-O), indented, trimmed
// (1-I, 1-L) or cut short by an abort (1-C), so every row is matched by shape, not by column.

/** One extension row of `systemextensionsctl list`. */
export interface SystemExtensionRow {
  /** Category id of the `--- ` block the row is in (`com.apple.system_extension.driver_extension`); '' outside any block. */
  category: string;
  /** `*` in the enabled column. */
  enabled: boolean;
  /** `*` in the active column. */
  active: boolean;
  /** 10-character team id; `-` for ad hoc signing; '' when the copy was trimmed to `bundle (version) [state]` (1-I). */
  teamId: string;
  bundleId: string;
  /** CFBundleShortVersionString. */
  shortVersion: string;
  /** CFBundleVersion; equal to shortVersion when the version has no slash (seen only in fixtures). */
  bundleVersion: string;
  /** Display name: may contain spaces, equal the bundle id, or be `-`. */
  name: string;
  /** State words without the brackets, e.g. `activated enabled`. */
  state: string;
}

/** The parsed listing. */
export interface SystemExtensionsList {
  /** N of the `N extension(s)` line; null when the line is missing. */
  count: number | null;
  /**
   * False when the output was evidently cut short: fewer rows than the count, a partial last row,
   * a last category block without rows (the 1-C abort), the abort message, or nothing recognisable.
   */
  complete: boolean;
  extensions: SystemExtensionRow[];
}

const COUNT_LINE = /^(\d+) extension\(s\)$/;
const CATEGORY_LINE = /^--- (\S+)/;
const COLUMN_HEADER = /^enabled\s+active\s+teamID\s+bundleID \(version\)/;
/** NSLog line written to stderr when `list` aborts after a category header (1-C). */
const ABORT_MESSAGE = /Completely failed to resolve bundle info/;
/** TAB form: the enabled and active columns are exactly the first two TAB-separated fields. */
const TAB_FLAGS = /^ *(\*?) *\t *(\*?) *\t\s*(.*)$/;
/** Space form: the flags are leading stars; a lone star is ambiguous (see below). */
const SPACE_FLAGS = /^\s*(\*)?\s*(\*)?\s*(.*)$/;
/** `<team> <bundle> (<version>) <name>[<state>]`; the name may be empty, `-`, or glued to the state. */
const ROW_BODY = /^(\S+)\s+(\S+)\s+\(([^()]*)\)\s*(.*?)\s*\[([^\][]+)\]\s*$/;
/** A copy trimmed to `<bundle> (<version>) [<state>]` (1-I). */
const TRIMMED_ROW = /^(\S+)\s+\(([^()]*)\)\s*(.*?)\s*\[([^\][]+)\]\s*$/;
/** What the start of a (possibly cut) row looks like, to tell a partial row from other text. */
const ROW_START = /^(?:\*|\t|[A-Z0-9]{10}(?:\s|$)|-\s)/;

/**
 * Parses `systemextensionsctl list` output.
 *
 * Accepts the TAB-separated live form and copies whose TABs became spaces; ignores prompt lines,
 * usage text and stderr lines mixed into a paste. With space-separated input a single `*` is
 * read as `active` only: the only one-star pair seen is blank enabled + `*` active
 * (`activated waiting for user`, `activated disabled`).
 */
export function parseSystemExtensionsList(text: string): SystemExtensionsList {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const extensions: SystemExtensionRow[] = [];
  let count: number | null = null;
  let category = '';
  let rowsInCategory = 0;
  let sawCategory = false;
  let aborted = false;
  let lastMeaningful: { kind: 'row' | 'other' | 'header'; line: string } | undefined;

  for (const rawLine of lines) {
    const line = rawLine.replace(/^ +/, '');
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const countMatch = COUNT_LINE.exec(trimmed);
    if (countMatch) {
      count = Number(countMatch[1]);
      lastMeaningful = { kind: 'header', line: trimmed };
      continue;
    }
    const categoryMatch = CATEGORY_LINE.exec(trimmed);
    if (categoryMatch) {
      category = categoryMatch[1]!;
      rowsInCategory = 0;
      sawCategory = true;
      lastMeaningful = { kind: 'header', line: trimmed };
      continue;
    }
    if (COLUMN_HEADER.test(trimmed)) {
      lastMeaningful = { kind: 'header', line: trimmed };
      continue;
    }
    if (ABORT_MESSAGE.test(trimmed)) {
      aborted = true;
      continue;
    }
    const row = parseRow(line, category);
    if (row) {
      extensions.push(row);
      rowsInCategory++;
      lastMeaningful = { kind: 'row', line };
    } else {
      lastMeaningful = { kind: 'other', line };
    }
  }

  const partialLastRow = sawCategory && lastMeaningful?.kind === 'other' && ROW_START.test(lastMeaningful.line);
  const emptyLastCategory = sawCategory && rowsInCategory === 0;
  const nothingRecognised = count === null && extensions.length === 0;
  const complete =
    !aborted && !partialLastRow && !emptyLastCategory && !nothingRecognised &&
    (count === null || extensions.length >= count);
  return { count, complete, extensions };
}

function parseRow(line: string, category: string): SystemExtensionRow | undefined {
  let enabled: boolean;
  let active: boolean;
  let body: string;
  const tabbed = TAB_FLAGS.exec(line);
  if (tabbed) {
    enabled = tabbed[1] === '*';
    active = tabbed[2] === '*';
    body = tabbed[3]!;
  } else {
    const spaced = SPACE_FLAGS.exec(line)!;
    const stars = (spaced[1] ? 1 : 0) + (spaced[2] ? 1 : 0);
    enabled = stars === 2;
    active = stars >= 1;
    body = spaced[3]!;
  }
  body = body.replace(/\s+/g, ' ');
  const full = ROW_BODY.exec(body);
  if (full) {
    const [, teamId, bundleId, version, name, state] = full;
    return { category, enabled, active, teamId: teamId!, bundleId: bundleId!, ...splitVersion(version!), name: name!, state: state!.trim() };
  }
  const trimmed = TRIMMED_ROW.exec(body);
  if (trimmed) {
    const [, bundleId, version, name, state] = trimmed;
    return { category, enabled, active, teamId: '', bundleId: bundleId!, ...splitVersion(version!), name: name!, state: state!.trim() };
  }
  return undefined;
}

function splitVersion(version: string): { shortVersion: string; bundleVersion: string } {
  const slash = version.indexOf('/');
  // A version without a slash appears only in third-party fixtures (§8): treat it as both.
  if (slash < 0) return { shortVersion: version, bundleVersion: version };
  return { shortVersion: version.slice(0, slash), bundleVersion: version.slice(slash + 1) };
}

/** Which rows {@link findExtensionRows} selects. */
export interface ExtensionRowQuery {
  bundleId: string;
  /** `short` (matches CFBundleShortVersionString) or `short/bundle` (matches both); any version when absent. */
  version?: string;
}

/**
 * The rows of one bundle id, optionally of one version. The same bundle id can appear several
 * times (an old version terminating, a new one activating), so callers pick by version too.
 */
export function findExtensionRows(list: SystemExtensionsList, query: ExtensionRowQuery): SystemExtensionRow[] {
  const wanted = query.version === undefined ? undefined : splitVersion(query.version);
  const hasBundleVersion = query.version?.includes('/') ?? false;
  return list.extensions.filter(
    (row) =>
      row.bundleId === query.bundleId &&
      (wanted === undefined ||
        (row.shortVersion === wanted.shortVersion && (!hasBundleVersion || row.bundleVersion === wanted.bundleVersion))),
  );
}
