import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The partner portal's page: a second app of the same package, served by functions/console at
// /partner/ on the API's origin (the crate embeds dist-partner/ beside the console's dist/).
export default defineConfig({
  root: 'partner',
  base: '/partner/',
  plugins: [react()],
  build: {
    outDir: '../dist-partner',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
});
