import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is served by Learnloop itself at /dashboard/ (src/server/dashboard.ts), built into
// dist/dashboard at install time (npm run build:web); `npm run dev:web` serves it with hot reload.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: { proxy: { '/graphql': { target: 'http://localhost:4000', ws: true } } },
});
