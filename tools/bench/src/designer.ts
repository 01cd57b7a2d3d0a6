/**
 * Designer benchmark (not a test): how fast the portal's designer becomes usable with a large
 * production (and with canvas groups and notes on top), and how smooth panning it is, beside a
 * baseline (an empty production) measured in the same run, in the system Chromium.
 *
 *   npx tsx tools/bench/src/designer.ts [--items 200] [--runs 3] [--url http://127.0.0.1:8080 --password …]
 *
 * Without --url it starts `hie start` on a fresh temporary data dir (building the portal first
 * if apps/portal/.next is missing). Projects are created through the manager API.
 *
 * TTI = navigation start → the designer's `hie:designer:ready` performance mark (set once the
 * spec is loaded and every node is rendered and measured by React Flow).
 * Frame times = requestAnimationFrame deltas while a scripted mouse drag pans the canvas.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    url: { type: 'string' },
    password: { type: 'string', default: process.env.HIE_ADMIN_PASSWORD ?? '' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
  },
});
const itemCount = Number(values.items);
const runs = Number(values.runs);
const root = new URL('../../../', import.meta.url).pathname;
/** Where the file.out items of the big production would write (never written: nothing is deployed); allowed to the `hie start` started here. */
const BENCH_OUT = path.join(os.tmpdir(), 'hie-bench-out');

// ── the stack ────────────────────────────────────────────────────────────────────────────────

async function startHie(password: string): Promise<{ url: string; child: ChildProcess }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hie-bench-designer-'));
  const port = 40000 + Math.floor(Math.random() * 15000);
  const child = spawn(process.execPath, ['bin/hie.mjs', 'start'], {
    cwd: root,
    env: { ...process.env, HIE_PORT: String(port), HIE_HOST: '127.0.0.1', HIE_DATA_DIR: path.join(dir, 'data'), HIE_ADMIN_PASSWORD: password, HIE_LOG_LEVEL: 'warn', HIE_FILE_ROOTS: BENCH_OUT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/HIE is running/.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`hie start exited ${code}: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

// ── the API (plain tRPC over HTTP) ───────────────────────────────────────────────────────────

class Api {
  cookie = '';
  constructor(readonly url: string) {}
  async call<T>(proc: string, input: unknown, method: 'query' | 'mutation' = 'mutation'): Promise<T> {
    const res =
      method === 'query'
        ? await fetch(`${this.url}/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie: this.cookie } })
        : await fetch(`${this.url}/api/trpc/${proc}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: this.cookie }, body: JSON.stringify(input) });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
    if (!res.ok || !body.result) throw new Error(`${proc}: ${body.error?.message ?? res.status}`);
    return body.result.data;
  }
}

/**
 * `n` items (a multiple of 4) as chains of four: MLLP in → router → transform → file out, in a grid.
 * `canvas`: each chain also in a labelled group, with a note beside it.
 */
function bigSpec(name: string, n: number, canvas = false) {
  const items: unknown[] = [];
  const connections: { from: string; to: string }[] = [];
  const chain = ['hl7.mllp.in', 'hl7.router', 'hl7.transform', 'file.out'] as const;
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / 4);
    const col = i % 4;
    const type = chain[col]!;
    const itemName = `${type.split('.').slice(-2).join('-')} ${row + 1}`;
    const settings =
      type === 'hl7.mllp.in'
        ? { host: '127.0.0.1', port: 0 }
        : type === 'hl7.router'
          ? { rules: [{ name: 'all', then: { action: 'send', to: [`hl7-transform ${row + 1}`] } }] }
          : type === 'file.out'
            ? { directory: BENCH_OUT }
            : { operations: [{ op: 'set', path: 'MSH-5', value: 'BENCH' }] };
    items.push({ name: itemName, type, settings, position: { x: col * 280, y: row * 130 } });
    if (col > 0) connections.push({ from: String((items[i - 1] as { name: string }).name), to: itemName });
  }
  if (!canvas) return { name, items, connections };
  const rows = Math.ceil(n / 4);
  const groups = Array.from({ length: rows }, (_, row) => ({ id: `g-${row + 1}`, label: `Feed ${row + 1}`, x: -20, y: row * 130 - 20, width: 4 * 280, height: 110, colour: 'blue' }));
  const notes = Array.from({ length: rows }, (_, row) => ({ id: `n-${row + 1}`, text: `Feed ${row + 1}: ADT from the PAS to the lab, owner: integration team`, x: 4 * 280 + 20, y: row * 130 }));
  return { name, items, connections, canvas: { groups, notes } };
}

// ── measurements ─────────────────────────────────────────────────────────────────────────────

interface Sample {
  tti: number;
  frames: number[];
  nodes: number;
}

async function measure(browser: Browser, url: string, cookie: string, projectId: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name: name!, value: value!, url }]);
  const page = await context.newPage();
  await page.goto(`${url}/p/${projectId}`);
  await page.waitForFunction(() => performance.getEntriesByName('hie:designer:ready').length > 0, undefined, { timeout: 60_000 });
  const tti = await page.evaluate(() => performance.getEntriesByName('hie:designer:ready')[0]!.startTime);
  const nodes = await page.locator('.react-flow__node').count();

  // Pan: record requestAnimationFrame deltas while the mouse drags the pane back and forth.
  // A string, not a function: tsx would wrap named functions in a `__name` helper the page lacks.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__stop = false;
    let last = 0;
    const tick = (t) => {
      if (last) window.__frames.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const box = (await page.locator('.react-flow__pane').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 30; i++) {
      const dx = Math.sin((i / 30) * Math.PI * 2) * 220;
      const dy = Math.cos((i / 30) * Math.PI * 2) * 120 - 120;
      await page.mouse.move(cx + dx, cy + dy);
      await page.waitForTimeout(16);
    }
  }
  await page.mouse.up();
  const frames = await page.evaluate<number[]>(`(() => { window.__stop = true; return window.__frames; })()`);
  await context.close();
  return { tti, frames, nodes };
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');

async function main() {
  const password = values.password || `bench-${Math.random().toString(36).slice(2, 10)}`;
  let child: ChildProcess | undefined;
  let url = values.url;
  if (!url) {
    process.stdout.write('starting hie (builds the portal on first start)…\n');
    ({ url, child } = await startHie(password));
  }
  const browser = await chromium.launch({
    executablePath: values.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const api = new Api(url);
    await api.call('auth.login', { username: 'admin', password });
    const ws = await api.call<{ id: string }>('workspaces.create', { name: `bench-designer-${Date.now()}` });
    const empty = await api.call<{ id: string }>('projects.create', { workspaceId: ws.id, name: 'bench-empty' });
    const big = await api.call<{ id: string }>('projects.create', { workspaceId: ws.id, name: `bench-${itemCount}`, spec: bigSpec(`bench-${itemCount}`, itemCount) });

    const grouped = await api.call<{ id: string }>('projects.create', {
      workspaceId: ws.id,
      name: `bench-${itemCount}-canvas`,
      spec: bigSpec(`bench-${itemCount}-canvas`, itemCount, true),
    });
    const scenarios = [
      { label: 'empty production (baseline)', id: empty.id },
      { label: `${itemCount}-item production`, id: big.id },
      { label: `… + ${itemCount / 4} groups, ${itemCount / 4} notes`, id: grouped.id },
    ];
    // One warm-up load so the first scenario does not pay for cold caches.
    await measure(browser, url, api.cookie, empty.id);
    const results: { label: string; tti: number[]; frames: number[]; nodes: number }[] = [];
    for (const s of scenarios) {
      const tti: number[] = [];
      const frames: number[] = [];
      let nodes = 0;
      for (let r = 0; r < runs; r++) {
        const m = await measure(browser, url, api.cookie, s.id);
        tti.push(m.tti);
        frames.push(...m.frames);
        nodes = m.nodes;
      }
      results.push({ label: s.label, tti, frames, nodes });
    }
    const base = results[0]!;
    const lines = [
      '',
      `Designer (Chromium headless, 1280×800, ${runs} runs each)`,
      `${'scenario'.padEnd(30)} ${'nodes'.padStart(5)} ${'TTI p50 ms'.padStart(11)} ${'×base'.padStart(6)} ${'frame p50 ms'.padStart(13)} ${'frame p95 ms'.padStart(13)} ${'×base p95'.padStart(10)}`,
    ];
    for (const r of results) {
      const tti = pct(r.tti, 50);
      const p50 = pct(r.frames, 50);
      const p95 = pct(r.frames, 95);
      lines.push(
        `${r.label.padEnd(30)} ${String(r.nodes).padStart(5)} ${fmt(tti).padStart(11)} ${(tti / pct(base.tti, 50)).toFixed(2).padStart(6)} ${fmt(p50).padStart(13)} ${fmt(p95).padStart(13)} ${(p95 / pct(base.frames, 95)).toFixed(2).padStart(10)}`,
      );
    }
    lines.push('', 'TTI: navigation start → every node rendered and measured. Frames: rAF deltas while panning by mouse drag (16.7 ms = 60 fps).');
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await browser.close();
    if (child) await stop(child);
  }
}

await main();
