// What a person needs to see without rerunning, kept in two places: the test's own folder under
// test-results/ (next to Playwright's error-context.md) and the reports (attachments). On failure
// also the extension list, the USB part of the IORegistry, and the unified log lines since the
// scenario began.
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { TestInfo } from '@playwright/test';
import { withDeadline } from '../common/time.ts';
import type { UnifiedLogStream } from '../host/tools/log.ts';
import type { RigSession } from '../rig/connect.ts';
import type { SourceLocation } from '../scenario/index.ts';

const ARTIFACT_TIMEOUT_MS = 10_000;

/** Writes `name` into the test's output folder and attaches it to the test's reports. */
export async function saveArtifact(testInfo: TestInfo, name: string, body: string, contentType: string): Promise<void> {
  await writeFile(testInfo.outputPath(name), body);
  await testInfo.attach(name, { body, contentType });
}

/** `log` is the scenario's full unified log stream, or why there is none. */
export async function saveFailureArtifacts(rig: RigSession, log: UnifiedLogStream | string, testInfo: TestInfo): Promise<void> {
  const save = async (name: string, produce: () => Promise<string>) => {
    let body: string;
    try {
      body = await withDeadline(produce(), ARTIFACT_TIMEOUT_MS, name);
    } catch (error) {
      body = `could not collect ${name}: ${(error as Error).message}\n`;
    }
    await saveArtifact(testInfo, name, body, 'text/plain');
  };
  await save('systemextensionsctl-list.txt', async () => (await rig.tools.sysext.list()).raw);
  await save('ioreg-usb.txt', () => rig.tools.ioreg.snapshotText());
  await save('unified-log.txt', async () => {
    if (typeof log === 'string') return `(no unified log: ${log})\n`;
    const entries = log.entries();
    if (entries.length === 0) return '(no kernel, sysextd, kernelmanagerd or dext lines since the scenario began)\n';
    return entries.map((e) => `${e.timestampText} ${e.process}[${e.processID}] ${e.sender && e.sender !== e.process ? `(${e.sender}) ` : ''}${e.eventMessage}`).join('\n') + '\n';
  });
}

/** `scenarios/x.yaml:12`, relative to the run's directory. */
export function whereIs(location: SourceLocation, rootDir: string): string {
  return `${relative(rootDir, location.file)}:${location.line}`;
}
