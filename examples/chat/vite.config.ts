import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The page talks to the Tether node through this server's proxy (REST and the session
// WebSocket), so the node needs no CORS setup and the page uses its own origin.
const target = process.env.TETHER_URL ?? `http://localhost:${process.env.TETHER_HTTP_PORT ?? '8080'}`;
const proxy = { '/v1': { target, ws: true, changeOrigin: true } };

export default defineConfig({
  plugins: [react()],
  server: { proxy, fs: { allow: ['..', '../../clients/typescript'] } },
  preview: { proxy },
  build: { outDir: 'dist', sourcemap: true },
});
