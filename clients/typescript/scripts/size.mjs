// Minified + gzipped size of @tether/client (browser entry) beside @durable-streams/client,
// each bundled whole by esbuild for the browser (every export kept).
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

async function size(name, entry) {
  const result = await build({
    stdin: { contents: `export * from '${entry}';`, resolveDir: process.cwd(), loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { name, minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

const rows = [await size('@tether/client', '@tether/client'), await size('@durable-streams/client', '@durable-streams/client')];
for (const r of rows) {
  console.log(`${r.name.padEnd(26)} minified ${(r.minified / 1024).toFixed(1).padStart(6)} KiB   min+gzip ${(r.gzipped / 1024).toFixed(1).padStart(5)} KiB`);
}
