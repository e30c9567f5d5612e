// Packs both packages into target/pack (run `npm run build` first).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

mkdirSync('target/pack', { recursive: true });
execFileSync('npm', ['pack', '--workspace', '@tether/client', '--workspace', '@tether/ai-sdk', '--pack-destination', 'target/pack'], { stdio: 'inherit' });
