// The chat example (examples/chat) is a member of this workspace, but it lives outside this
// folder, so Node.js and Vite would not find the workspace's node_modules from its files. A link
// examples/chat/node_modules -> clients/typescript/node_modules gives it the same single copy of
// every package (one `ai`, one `react`), installed from this folder's one lock file.
import { existsSync, lstatSync, symlinkSync, unlinkSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const example = join(root, '..', '..', 'examples', 'chat');
const link = join(example, 'node_modules');
if (existsSync(example)) {
  try {
    const stat = lstatSync(link);
    if (stat.isSymbolicLink()) unlinkSync(link);
    else rmSync(link, { recursive: true, force: true });
  } catch {
    // no link yet
  }
  symlinkSync(relative(example, join(root, 'node_modules')), link, 'dir');
}
