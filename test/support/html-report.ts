// The data Playwright's HTML report embeds in its index.html: a zip, base64, in
// <template id="playwrightReportBase64">, holding report.json (the files and their tests) and one
// <fileId>.json per file (its tests with their results and steps). Read here with a small zip
// reader (central directory, stored or deflated entries), as Playwright 1.65 writes it (yazl).
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

export interface HtmlLocation { file: string; line: number; column: number }
export interface HtmlStep { title: string; location?: HtmlLocation; snippet?: string; error?: string; steps: HtmlStep[] }
export interface HtmlTest {
  title: string;
  projectName: string;
  location: HtmlLocation;
  outcome: 'expected' | 'unexpected' | 'flaky' | 'skipped';
  annotations: { type: string; description?: string }[];
  results: { retry: number; status: string; steps: HtmlStep[]; errors: (string | { message?: string })[] }[];
}
export interface HtmlStats { total: number; expected: number; unexpected: number; flaky: number; skipped: number; ok: boolean }
export interface HtmlReport {
  /** report.json's files: each file's name as the report shows it, and its tests' locations. */
  files: { fileId: string; fileName: string; tests: { title: string; location: HtmlLocation }[] }[];
  /** The tests of every file, with results and steps. */
  tests: HtmlTest[];
}

const MARKER = '<template id="playwrightReportBase64">data:application/zip;base64,';

export function readHtmlReport(indexHtml: string): HtmlReport {
  const json = embeddedJson(indexHtml);
  const report = json('report.json') as { files: HtmlReport['files'] };
  return { files: report.files, tests: report.files.flatMap((f) => (json(`${f.fileId}.json`) as { tests: HtmlTest[] }).tests) };
}

/** The counts the report's header shows (report.json's stats). */
export function readHtmlReportStats(indexHtml: string): HtmlStats {
  const { stats } = embeddedJson(indexHtml)('report.json') as { stats: HtmlStats };
  return { total: stats.total, expected: stats.expected, unexpected: stats.unexpected, flaky: stats.flaky, skipped: stats.skipped, ok: stats.ok };
}

function embeddedJson(indexHtml: string): (name: string) => unknown {
  const html = readFileSync(indexHtml, 'utf8');
  const start = html.indexOf(MARKER);
  if (start < 0) throw new Error(`${indexHtml}: no embedded report data (${MARKER})`);
  const end = html.indexOf('</template>', start);
  const entries = unzip(Buffer.from(html.slice(start + MARKER.length, end), 'base64'));
  return (name: string) => JSON.parse(entries.get(name)!.toString('utf8'));
}

/** Every step of a result, depth first, nested ones included. */
export function allSteps(steps: HtmlStep[]): HtmlStep[] {
  return steps.flatMap((s) => [s, ...allSteps(s.steps)]);
}

function unzip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataAt, dataAt + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + skip;
  }
  return entries;
}
