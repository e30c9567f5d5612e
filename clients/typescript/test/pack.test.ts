import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const workspace = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What `npm pack` would put in each package's tarball (the packages are built first). */
function packed(name: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--workspace', name], { cwd: workspace, encoding: 'utf8' });
  const [info] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return info!.files.map((f) => f.path);
}

describe('npm pack', () => {
  it('@tether/client packs its code, type declarations and README', () => {
    const files = packed('@tether/client');
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/session.d.ts', 'dist/agent.d.ts']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('@tether/ai-sdk packs its code, type declarations and README', () => {
    const files = packed('@tether/ai-sdk');
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/agent.js', 'dist/agent.d.ts', 'dist/transport.d.ts']) {
      expect(files).toContain(f);
    }
  });
});
