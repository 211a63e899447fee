// After `vite build`: a gzip copy beside each text file of dist/ and dist-partner/ (x.js -> x.js.gz). The console
// function embeds both and answers with the copy when the browser accepts gzip (API Gateway's HTTP
// API does not compress answers itself).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const dists = ['../dist/', '../dist-partner/'].map((d) => fileURLToPath(new URL(d, import.meta.url)));
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(js|css|html|svg|json)$/.test(name)) writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
  }
}
for (const dist of dists) walk(dist);
