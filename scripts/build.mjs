#!/usr/bin/env node
// Bundle the CLI and the daemon with esbuild: ESM, node20, code splitting so command modules stay lazy.
import { build } from 'esbuild';
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const minify = !process.argv.includes('--no-minify');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  minify,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // native addons and their loaders stay external
  external: ['@napi-rs/*', '*.node'],
};

/** `env -S` splits the line, so node gets `--` before the script path (see buildEntry). */
const SHEBANG = '#!/usr/bin/env -S node --';

// bundled CommonJS dependencies (tar-stream: the daemon, the CLI's cp) need a require() in ESM output
const requireBanner = {
  js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
};

async function buildEntry(name, entry, outName, chunkDir, extra = {}) {
  const abs = join(root, entry);
  if (!existsSync(abs)) {
    console.log(`build: skipping ${name}: ${entry} does not exist yet`);
    return false;
  }
  const outdir = join(dist);
  await build({
    ...common,
    entryPoints: { [outName]: abs },
    outdir,
    chunkNames: `${chunkDir}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
    ...extra,
  });
  const out = join(outdir, `${outName}.mjs`);
  // Prepend the shebang (esbuild keeps a shebang only from the entry source). `node --` ends
  // node's own options: Node 20 otherwise takes an `--env-file` anywhere on the command line
  // (`berth exec --env-file f …`) as its own, loads it into the CLI's environment or dies.
  const { readFile } = await import('node:fs/promises');
  let text = await readFile(out, 'utf8');
  if (text.startsWith('#!')) text = text.slice(text.indexOf('\n') + 1);
  text = `${SHEBANG}\n` + text;
  await writeFile(out, text);
  await chmod(out, 0o755);
  const s = await stat(out);
  console.log(`build: ${name} -> dist/${outName}.mjs (${(s.size / 1024).toFixed(1)} kB)`);
  return true;
}

await mkdir(dist, { recursive: true });
await rm(join(dist, 'cli-chunks'), { recursive: true, force: true });
await rm(join(dist, 'daemon-chunks'), { recursive: true, force: true });
// the CLI's cp bundles tar-stream (CommonJS) too
await buildEntry('berth', 'src/cli/main.ts', 'berth', 'cli-chunks', { banner: requireBanner });
await buildEntry('berthd', 'src/daemon/main.ts', 'berthd', 'daemon-chunks', { banner: requireBanner });
if (watch) console.log('build: --watch is not supported; rerun the build');

// The dashboard's web UI (web/, Preact + xterm.js) → dist/dashboard, served by berthd --dashboard.
// Everything it needs is bundled: the page fetches nothing from elsewhere at run time.
async function buildDashboard() {
  const web = join(root, 'web');
  if (!existsSync(join(web, 'index.html'))) return;
  const { build: viteBuild } = await import('vite');
  const outDir = join(dist, 'dashboard');
  await viteBuild({
    root: web,
    configFile: false,
    logLevel: 'warn',
    base: '/',
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 1024, reportCompressedSize: false },
  });
  let total = 0;
  const { readdir } = await import('node:fs/promises');
  for (const e of await readdir(outDir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath ?? e.path, e.name))).size;
  }
  console.log(`build: dashboard -> dist/dashboard (${(total / 1024).toFixed(1)} kB)`);
}
await buildDashboard();
