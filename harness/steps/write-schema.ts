// npm run schema: writes the JSON Schemas editors use (yaml-language-server) from the zod schemas.
// test/integration/cli/validate.test.ts fails when a committed file is out of date.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deviceJsonSchema, rigJsonSchema, scenarioJsonSchema } from '../scenario/index.ts';
import { stepRegistry } from './index.ts';

const root = resolve(import.meta.dirname, '../..');

export function generatedSchemas(): Record<string, string> {
  const text = (schema: unknown) => `${JSON.stringify(schema, null, 2)}\n`;
  return {
    'scenarios/schema.json': text(scenarioJsonSchema(stepRegistry)),
    'rigs/schema.json': text(rigJsonSchema()),
    'devices/schema.json': text(deviceJsonSchema()),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, body] of Object.entries(generatedSchemas())) {
    writeFileSync(join(root, file), body);
    console.log(`wrote ${file}`);
  }
}
