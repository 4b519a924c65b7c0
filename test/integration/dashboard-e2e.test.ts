/**
 * The walkthrough ("What is an image?" in Docker Desktop), done in the dashboard by Debian's
 * chromium (headless, driven by playwright-core) against a real berthd with `--dashboard`, and
 * nginx, redis and postgres images made offline from Debian packages
 * (scripts/fixtures/debian-images.mjs) on the loopback registry: open the link `berth dashboard`
 * prints; search and pull the three with per-layer progress; run nginx with host port 0 and open
 * it from the port link; run redis and use redis-cli in its Exec tab; run postgres with an env
 * var; delete the nginx image → Docker's in-use error → In use lists the container → delete it →
 * delete the image. Then logs across containers, volumes, networks, compose labels, events,
 * and the page's load time with 50 containers and 30 images (printed, not asserted).
 * Screenshots of each step are kept in the folder printed at the start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { removeContainersAndStop, startDaemonWithMirror, type TestDaemon } from '../helpers/daemon.js';
import { pushDebianImages } from '../helpers/debian-images.js';

let d: TestDaemon & { registryHost: string };
let ctx: BrowserContext;
let page: Page;
let link = '';
let origin = '';
let userData = '';
const shots = mkdtempSync('/tmp/berth-dashboard-shots-');
let shotNo = 0;

const NGINX = 'berth-fixtures/nginx';
const REDIS = 'berth-fixtures/redis';
const POSTGRES = 'berth-fixtures/postgres';

async function shot(name: string, p: Page = page): Promise<void> {
  shotNo++;
  await p.screenshot({ path: join(shots, `${String(shotNo).padStart(2, '0')}-${name}.png`) });
}

/** The terminal's visible text (xterm's DOM rows). */
async function terminalText(): Promise<string> {
  return page.locator('.xterm-rows').innerText();
}

async function waitForTerminal(re: RegExp, timeout = 30_000): Promise<string> {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = await terminalText();
    if (re.test(text)) return text;
    await page.waitForTimeout(100);
  }
  assert.fail(`terminal never showed ${re}:\n${text}`);
}

async function nav(section: string): Promise<void> {
  await page.click(`a[data-nav="${section}"]`);
}

/** Run `image` from the Images page's Run dialog with the given optional settings. */
async function runFromImages(image: string, opts: { name: string; hostPort?: string; env?: [string, string] }): Promise<void> {
  await nav('images');
  await page.click(`tr[data-image="${image}:latest"] button[data-action="run"]`);
  const dialog = page.locator('[data-testid="run-dialog"]');
  await dialog.waitFor();
  await dialog.locator('input[name="name"]').fill(opts.name);
  if (opts.hostPort !== undefined) {
    // The image's exposed port is filled in for us: only the host side is ours to choose.
    await page.waitForFunction(() => (document.querySelector('input[name="container-port-0"]') as HTMLInputElement | null)?.value === '80/tcp');
    await dialog.locator('input[name="host-port-0"]').fill(opts.hostPort);
  }
  if (opts.env) {
    await dialog.locator('input[name="env-key-0"]').fill(opts.env[0]);
    await dialog.locator('input[name="env-value-0"]').fill(opts.env[1]);
  }
  await shot(`run-dialog-${opts.name}`);
  await dialog.locator('button[data-action="run-submit"]').click();
  await page.locator('[data-testid="container-name"]', { hasText: opts.name }).waitFor();
}

before(async () => {
  console.log(`# dashboard e2e screenshots: ${shots}`);
  d = await startDaemonWithMirror({ images: ['busybox'], extraArgs: ['--dashboard', '127.0.0.1:0'] });
  // nginx, redis and postgres from Debian's packages, pushed to this test's registry.
  await pushDebianImages(d.registryHost);
  const r = await d.berth(['dashboard']);
  assert.equal(r.code, 0, r.stderr);
  link = r.stdout.trim();
  origin = new URL(link).origin;
  userData = mkdtempSync('/tmp/berth-dashboard-chromium-');
  ctx = await chromium.launchPersistentContext(userData, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
});

after(async () => {
  await ctx?.close();
  if (userData) rmSync(userData, { recursive: true, force: true });
  await removeContainersAndStop(d);
  console.log(`# dashboard e2e screenshots: ${shots}`);
});

describe('the walkthrough', () => {
  test('the link `berth dashboard` prints opens the dashboard without a login; the token leaves the address bar', async () => {
    await page.goto(link);
    await page.locator('[data-testid="containers"]', { hasText: 'No containers.' }).waitFor();
    assert.equal(page.url(), `${origin}/`);
    await shot('opened');
    // Another browser profile (no cookie) gets nothing from the API.
    const other = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const p = await other.newPage();
      const res = await p.goto(`${origin}/api/containers/json`);
      assert.equal(res?.status(), 401);
    } finally {
      await other.close();
    }
  });

  test('search and pull nginx, redis and postgres with live per-layer progress', async () => {
    await nav('images');
    for (const image of [NGINX, REDIS, POSTGRES]) {
      await page.fill('input[name="search"]', image);
      await page.click('form.toolbar button[type="submit"]');
      // Results, or the reason there are none (a daemon without /images/search).
      await page.locator('[data-testid="search-results"], .banner.warn').first().waitFor();
      await page.click('button[data-action="pull-term"]');
      const panel = page.locator(`.pull[data-pull="${image}"]`);
      // Per-layer rows appear while the pull runs.
      await panel.locator('[data-layer]').first().waitFor({ timeout: 120_000 });
      if (image === NGINX) await shot('pull-progress');
      await page.locator(`.pull[data-pull="${image}"][data-state="done"]`).waitFor({ timeout: 600_000 });
      const text = await panel.innerText();
      assert.match(text, /Pull complete|Download complete|Already exists/);
      assert.match(text, new RegExp(`Status: Downloaded newer image for ${image}:latest`));
      await page.locator(`tr[data-image="${image}:latest"]`).waitFor();
    }
    await shot('pulled');
    const row = await page.locator(`tr[data-image="${NGINX}:latest"]`).innerText();
    assert.match(row, /\d+(\.\d+)?MB/);
    assert.match(row, /Unused/);
    const r = await d.docker(['images', '--format', '{{.Repository}}']);
    for (const image of [NGINX, REDIS, POSTGRES]) assert.match(r.stdout, new RegExp(`^${image}$`, 'm'));
  });

  test('run nginx with host port 0: a free port is chosen and its link opens nginx', async () => {
    await runFromImages(NGINX, { name: 'web', hostPort: '0' });
    const portLink = page.locator('a[data-port="80"]').first();
    await portLink.waitFor();
    const [host, container] = (await portLink.innerText()).split(':').map(Number);
    assert.equal(container, 80);
    assert.ok(host > 0, `host port ${host}`);
    const r = await d.docker(['port', 'web', '80']);
    assert.match(r.stdout, new RegExp(`:${host}$`, 'm'));
    await shot('web-running');
    const [tab] = await Promise.all([ctx.waitForEvent('page'), portLink.click()]);
    await tab.waitForLoadState();
    // nginx may need a moment after the container starts: reload until it answers.
    for (let i = 0; i < 50 && !/Welcome to nginx/.test(await tab.content()); i++) {
      await tab.waitForTimeout(200);
      await tab.reload().catch(() => undefined);
    }
    assert.match(await tab.content(), /Welcome to nginx/);
    assert.equal(new URL(tab.url()).port, String(host));
    await shot('nginx-welcome', tab);
    await tab.close();
  });

  test("nginx's live logs show that request, and search highlights it", async () => {
    await page.click('a[data-tab="logs"]');
    await page.locator('.logline', { hasText: 'GET / HTTP' }).first().waitFor({ timeout: 30_000 });
    await page.fill('input[name="log-search"]', 'GET /');
    await page.locator('[data-testid="logs"] mark', { hasText: 'GET /' }).first().waitFor();
    assert.match(await page.locator('[data-testid="match-count"]').innerText(), /^[1-9]\d* matching lines/);
    await shot('web-logs-search');
  });

  test('run redis; in its Exec tab redis-cli answers SET test 1 and GET test; the terminal resizes', async () => {
    await runFromImages(REDIS, { name: 'cache' });
    await page.click('a[data-tab="exec"]');
    await page.locator('[data-testid="terminal-status"]', { hasText: 'connected' }).waitFor();
    await waitForTerminal(/[#$]\s*$/m);
    await page.click('[data-testid="terminal"]');
    // The size as the shell sees it, on a line of its own (the typed command does not match).
    const SIZE = /^size-(\d+)x(\d+)-end\s*$/m;
    await page.keyboard.type('echo size-$(stty size | tr " " x)-end\n');
    const before = SIZE.exec(await waitForTerminal(SIZE))!;
    await page.keyboard.type('redis-cli\n');
    await waitForTerminal(/127\.0\.0\.1:6379>\s*$/m);
    await page.keyboard.type('SET test 1\n');
    await waitForTerminal(/^OK\s*$/m);
    await page.keyboard.type('GET test\n');
    await waitForTerminal(/^"1"\s*$/m);
    await shot('redis-cli');
    const r = await d.docker(['exec', 'cache', 'redis-cli', 'GET', 'test']);
    assert.equal(r.stdout.trim(), '1');
    // A smaller window: xterm refits and the pty follows.
    await page.keyboard.type('quit\n');
    await page.keyboard.type('clear\n');
    await page.waitForFunction(() => !/size-\d+x\d+-end/.test(document.querySelector('.xterm-rows')?.textContent ?? ''));
    await page.setViewportSize({ width: 900, height: 560 });
    await page.waitForTimeout(500);
    await page.keyboard.type('echo size-$(stty size | tr " " x)-end\n');
    const size = SIZE.exec(await waitForTerminal(SIZE))!;
    assert.ok(Number(size[1]) < Number(before[1]) && Number(size[2]) < Number(before[2]), `${before[0]} → ${size[0]}`);
    await shot('terminal-resized');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('run postgres with an environment variable: its logs say it accepts connections; live CPU/memory graphs', async () => {
    await runFromImages(POSTGRES, { name: 'db', env: ['POSTGRES_PASSWORD', 'secret'] });
    await page.locator('.logline', { hasText: 'database system is ready to accept connections' }).first().waitFor({ timeout: 120_000 });
    await shot('db-logs');
    const env = await d.docker(['inspect', '-f', '{{json .Config.Env}}', 'db']);
    assert.match(env.stdout, /"POSTGRES_PASSWORD=secret"/);
    await page.click('a[data-tab="stats"]');
    await page.waitForFunction(() => parseInt(document.querySelector('[data-testid="stats"] > .muted')?.textContent ?? '0', 10) >= 3, undefined, { timeout: 30_000 });
    assert.match(await page.locator('[data-graph="Memory"] figcaption').innerText(), /Memory \d+(\.\d+)?[kMG]B/);
    await shot('db-stats');
  });

  test("delete the nginx image: Docker's in-use error, In use lists the container, delete it, then the image", async () => {
    await nav('images');
    await page.click(`tr[data-image="${NGINX}:latest"] button[data-action="delete"]`);
    const banner = page.locator('[data-testid="delete-error"]');
    await banner.waitFor();
    assert.match(await banner.innerText(), new RegExp(`conflict: unable to remove repository reference "${NGINX}:latest" \\(must force\\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}`));
    await shot('delete-conflict');
    await banner.locator('a[data-action="in-use"]').click();
    await page.locator('[data-testid="in-use-banner"]').waitFor();
    const rows = page.locator('[data-testid="containers"] tr[data-container]');
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-container'))), ['web']);
    await shot('in-use');
    await page.click('tr[data-container="web"] button[data-action="delete"]');
    await page.locator('[data-testid="containers"]', { hasText: 'No containers.' }).waitFor();
    await shot('container-deleted');
    await nav('images');
    await page.click(`tr[data-image="${NGINX}:latest"] button[data-action="delete"]`);
    await page.locator(`tr[data-image="${NGINX}:latest"]`).waitFor({ state: 'detached' });
    await shot('image-deleted');
    const r = await d.docker(['images', '--format', '{{.Repository}}']);
    assert.doesNotMatch(r.stdout, new RegExp(`^${NGINX}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^${REDIS}$`, 'm'));
  });
});

describe('beyond the walkthrough', () => {
  test('logs of several containers at once, with search across them', async () => {
    await nav('containers');
    await page.check('tr[data-container="cache"] input[type="checkbox"]');
    await page.check('tr[data-container="db"] input[type="checkbox"]');
    await page.click('button[data-action="logs-selected"]');
    await page.locator('.logline .who', { hasText: 'cache' }).first().waitFor();
    await page.locator('.logline .who', { hasText: 'db' }).first().waitFor();
    await page.fill('input[name="log-search"]', 'ready');
    await page.locator('[data-testid="logs"] mark').first().waitFor();
    const who = await page.locator('.logline:has(mark) .who').allInnerTexts();
    assert.ok(who.includes('cache') && who.includes('db'), who.join(','));
    await shot('logs-several');
  });

  test('container actions: pause, resume, stop, start, restart; inspect', async () => {
    await nav('containers');
    const row = page.locator('tr[data-container="cache"]');
    const state = async (s: string) => row.locator(`[data-state="${s}"]`).waitFor({ timeout: 60_000 });
    await row.locator('button[data-action="pause"]').click();
    await state('paused');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}}', 'cache'])).stdout.trim(), 'paused');
    await shot('paused');
    await row.locator('button[data-action="unpause"]').click();
    await state('running');
    await row.locator('button[data-action="stop"]').click();
    await state('exited');
    await row.locator('button[data-action="start"]').click();
    await state('running');
    const started = (await d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'cache'])).stdout.trim();
    await row.locator('button[data-action="restart"]').click();
    for (let i = 0; i < 100 && (await d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'cache'])).stdout.trim() === started; i++) await page.waitForTimeout(100);
    assert.notEqual((await d.docker(['inspect', '-f', '{{.State.StartedAt}}', 'cache'])).stdout.trim(), started);
    await state('running');
    await row.locator('a[data-action="open"]').click();
    await page.click('a[data-tab="inspect"]');
    const json = JSON.parse(await page.locator('[data-testid="inspect"]', { hasText: '"Id"' }).innerText()) as { Name: string; Config: { Image: string } };
    assert.equal(json.Name, '/cache');
    assert.equal(json.Config.Image, `${REDIS}:latest`);
    await shot('inspect');
  });

  test('volumes: create, browse the files a container wrote, refuse deleting one in use, delete', async () => {
    await nav('volumes');
    await page.fill('input[name="volume-name"]', 'dash-data');
    await page.click('button[data-action="create-volume"]');
    await page.locator('tr[data-volume="dash-data"]').waitFor();
    const r = await d.docker(['run', '-d', '--name', 'vol-user', '-v', 'dash-data:/data', 'busybox', 'sh', '-c', 'mkdir /data/sub; echo hi > /data/sub/hello.txt; sleep 600']);
    assert.equal(r.code, 0, r.stderr);
    await page.locator('tr[data-volume="dash-data"]', { hasText: 'vol-user' }).waitFor();
    await page.click('tr[data-volume="dash-data"] a');
    await page.click('button[data-action="browse"]');
    await page.locator('[data-testid="volume-files"] li', { hasText: '/sub/hello.txt' }).waitFor();
    await shot('volume-browse');
    // Export: a tar of the volume, downloaded by the browser.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-action="export"]')]);
    const saved = join(shots, 'dash-data.tar');
    await download.saveAs(saved);
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      execFile('tar', ['-tvf', saved], (err, out) => (err ? reject(err) : resolve({ stdout: out })));
    });
    // The daemon's volume archive (GET /volumes/{name}/archive): names relative to the volume.
    assert.match(stdout, /^-\S+ 0\/0 +3 .* sub\/hello\.txt$/m);
    rmSync(saved);
    await page.click('tr[data-volume="dash-data"] button[data-action="delete"]');
    await page.locator('.banner.error', { hasText: 'volume is in use' }).waitFor();
    await d.docker(['rm', '-f', 'vol-user']);
    await page.click('tr[data-volume="dash-data"] button[data-action="delete"]');
    await page.locator('tr[data-volume="dash-data"]').waitFor({ state: 'detached' });
  });

  test('networks: list and inspect', async () => {
    await nav('networks');
    await page.click('tr[data-network="bridge"] a');
    await page.locator('[data-testid="network-inspect"]', { hasText: '"Name": "bridge"' }).waitFor();
    await shot('networks');
  });

  test('compose projects from their labels: services with health and dependencies', async () => {
    for (const [svc, deps] of [['api', 'db:service_healthy:false'], ['db', '']]) {
      const r = await d.docker(['run', '-d', '--name', `shop-${svc}-1`, '--label', 'com.docker.compose.project=shop', '--label', `com.docker.compose.service=${svc}`,
        '--label', `com.docker.compose.depends_on=${deps}`, ...(svc === 'db' ? ['--health-cmd', 'true', '--health-interval', '1s'] : []), 'busybox', 'sleep', '600']);
      assert.equal(r.code, 0, r.stderr);
    }
    await nav('compose');
    const project = page.locator('[data-project="shop"]');
    await project.locator('tr[data-service="api"]', { hasText: 'db (healthy)' }).waitFor();
    await project.locator('tr[data-service="db"] [data-health="healthy"]').waitFor({ timeout: 30_000 });
    await shot('compose');
  });

  test('events: history, then live ones pushed as they happen', async () => {
    await nav('events');
    await page.locator('tr[data-event="image pull"]').first().waitFor();
    await page.locator('tr[data-event="container start"]', { hasText: 'web' }).first().waitFor();
    const r = await d.docker(['stop', '-t', '1', 'shop-api-1']);
    assert.equal(r.code, 0, r.stderr);
    await page.locator('tr[data-event="container die"]', { hasText: 'shop-api-1' }).first().waitFor();
    await shot('events');
    // And the containers page followed, without a reload.
    await nav('containers');
    await page.locator('tr[data-container="shop-api-1"] [data-state="exited"]').waitFor();
  });
});

describe('page load', () => {
  test('with 50 containers and 30 images (the figure is printed)', async () => {
    const base = await d.docker(['create', '--name', 'load-base', 'busybox', 'true']);
    assert.equal(base.code, 0, base.stderr);
    const have = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean).length;
    for (let i = have; i < 50; i++) {
      const r = await d.docker(['create', '--name', `load-${i}`, '-p', `0:${1000 + i}`, '--label', `n=${i}`, 'busybox', 'true']);
      assert.equal(r.code, 0, r.stderr);
    }
    const images = () => d.docker(['images', '-q']).then((r) => new Set(r.stdout.split('\n').filter(Boolean)).size);
    for (let i = await images(); i < 30; i++) {
      const r = await d.docker(['commit', '-c', `LABEL n=${i}`, 'load-base', `load-image:${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.ok(await images() >= 30);
    const fresh = await ctx.newPage();
    // When the 50th row enters the DOM, in the page's own clock (from the start of navigation).
    await fresh.addInitScript(() => {
      const w = window as unknown as { rowsAt?: number };
      const mo = new MutationObserver(() => {
        if (w.rowsAt === undefined && document.querySelectorAll('[data-testid="containers"] tr[data-container]').length >= 50) w.rowsAt = Math.round(performance.now());
      });
      document.addEventListener('DOMContentLoaded', () => mo.observe(document.body, { childList: true, subtree: true }));
    });
    const times: number[] = [];
    const inPage: number[] = [];
    // The renderer's main-thread time (CDP Performance.TaskDuration, seconds): CPU the page
    // used, which the other processes on a loaded machine inflate far less than wall time.
    const cdp = await ctx.newCDPSession(fresh);
    await cdp.send('Performance.enable');
    const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
    const busy: number[] = [];
    for (let i = 0; i < 5; i++) {
      await fresh.goto('about:blank');
      const before = await taskSeconds();
      const t0 = Date.now();
      await fresh.goto(`${origin}/#/containers`);
      await fresh.locator('[data-testid="containers"] tr[data-container]').nth(49).waitFor();
      times.push(Date.now() - t0);
      inPage.push(await fresh.evaluate(() => (window as unknown as { rowsAt: number }).rowsAt));
      busy.push(Math.round((await taskSeconds() - before) * 1000));
    }
    const nav = await fresh.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
    });
    await fresh.goto(`${origin}/#/images`);
    const t1 = Date.now();
    await fresh.locator('[data-testid="images"] tr[data-image]').nth(29).waitFor();
    const imagesMs = Date.now() - t1;
    await shot('load-50-containers', fresh);
    await fresh.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`# page load, 50 containers listed: ${inPage.join(', ')} ms from navigation start to the 50th row in the DOM (median ${median(inPage)} ms; DOMContentLoaded ${nav.domContentLoaded} ms, load ${nav.load} ms); as the test sees it ${times.join(', ')} ms; renderer main-thread time per load ${busy.join(', ')} ms (median ${median(busy)} ms); images page with 30 images: ${imagesMs} ms; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
  });
});
