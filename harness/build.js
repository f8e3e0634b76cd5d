// Builds dist/index.js so the public API (parsers, loaders) is importable from plain Node
// without a TypeScript loader. Runs at `npm install` (prepare). esbuild comes with tsx.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./index.ts', import.meta.url).pathname],
  outfile: new URL('../dist/index.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
