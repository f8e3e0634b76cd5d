// On failure: what a person needs to see without rerunning — the extension list, the USB part of
// the IORegistry, and the unified log lines since the scenario began.
import type { TestInfo } from '@playwright/test';
import { withDeadline } from '../common/time.ts';
import type { RigSession } from '../rig/connect.ts';
import type { Scene } from './fixtures.ts';

const ARTIFACT_TIMEOUT_MS = 10_000;

export async function attachFailureArtifacts(rig: RigSession, scene: Scene, testInfo: TestInfo): Promise<void> {
  const attach = async (name: string, produce: () => Promise<string>) => {
    let body: string;
    try {
      body = await withDeadline(produce(), ARTIFACT_TIMEOUT_MS, name);
    } catch (error) {
      body = `could not collect ${name}: ${(error as Error).message}\n`;
    }
    await testInfo.attach(name, { body, contentType: 'text/plain' });
  };
  await attach('systemextensionsctl-list.txt', async () => (await rig.tools.sysext.list()).raw);
  await attach('ioreg-usb.txt', () => rig.tools.ioreg.snapshotText());
  await attach('unified-log.txt', async () => {
    const entries = scene.log?.entries() ?? [];
    if (entries.length === 0) return '(no dext, kernel, sysextd or kernelmanagerd lines since the scenario began)\n';
    return entries.map((e) => `${e.timestamp.toISOString()} ${e.process}[${e.processID}] ${e.eventMessage}`).join('\n') + '\n';
  });
}
