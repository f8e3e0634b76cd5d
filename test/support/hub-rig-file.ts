// Rig files with one hub and the echo device on it, written to a temp folder, for the hub drivers'
// schema tests: loadRig's result, or its issues as `file:line:column: …` lines relative to the folder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { loadRig } from '../../harness/scenario/index.ts';
import { issueLines } from './validation.ts';

const echoProfile = resolve(import.meta.dirname, '../../devices/echo.yaml');

export function hubRigFiles(hubId: string) {
  const dir = mkdtempSync(join(tmpdir(), `dextbench-${hubId}-rig-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    /** `hub` is the hub's YAML flow map; the echo device sits on its `port`. */
    rigFile(name: string, host: string, hub: string, port = 2): string {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, [
        `name: ${name}`, `host: ${host}`, 'hubs:', `  - ${hub}`,
        'devices:', `  echo: { port: { hub: ${hubId}, port: ${port} }, profile: ${echoProfile} }`, '',
      ].join('\n'));
      return file;
    },
    issues: (file: string): string[] => issueLines(() => loadRig(file, { env: {} }), dir),
  };
}
