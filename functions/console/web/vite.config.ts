import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Served by functions/console at /console/ on the API's origin; the Rust crate embeds dist/.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false, modulePreload: { polyfill: false } },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}', 'partner/src/**/*.test.{ts,tsx}'] },
});
