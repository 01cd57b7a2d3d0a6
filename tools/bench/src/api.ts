/**
 * Manager API benchmark (not a test). 50 concurrent clients, each with its own session, call
 * `projects.list` and `projects.get` (alternately, over HTTP, tRPC's GET wire format, keep-alive)
 * against the manager on PostgreSQL for ~10 s; beside it, in the same run, the same clients
 * against a bare node:http handler answering a fixed JSON (the floor). The servers run in a
 * child process, one phase at a time, so the load generator does not share their event loop.
 * A short middle phase calls the public `health` procedure (tRPC, no database, no session): the
 * floor of the HTTP + tRPC layers. Prints p50/p95/p99 and the ratio to the baseline. Target:
 * p95 ≤ 50 ms.
 *
 *   npx tsx tools/bench/src/api.ts [--seconds 10] [--clients 50] [--projects 20]
 * env: BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { InProcessCoordinator } from '@hie/cluster';
import { callerContext, createCaller, createManagerServer, ensureFirstAdmin } from '@hie/manager';
import { openTestStore } from '@hie/store';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    projects: { type: 'string', default: '20' },
    serve: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const PROJECTS = Number(values.projects);
const ADMIN_URL = process.env['BENCH_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PASSWORD = 'bench-password-1';

interface Ready {
  manager: number;
  baseline: number;
  workspaceId: string;
  projectIds: string[];
}

const spec = (name: string) => ({
  name,
  items: [
    { name: 'ADT In', type: 'hl7.mllp.in', settings: { port: 2575 }, position: { x: 0, y: 0 } },
    { name: 'Route', type: 'hl7.router', settings: { rules: [] }, position: { x: 200, y: 0 } },
    { name: 'Files', type: 'file.out', settings: { directory: './out' }, position: { x: 400, y: 0 } },
  ],
  connections: [
    { from: 'ADT In', to: 'Route' },
    { from: 'Route', to: 'Files' },
  ],
});

/** Child: a fresh database with PROJECTS projects, the manager and the baseline on port 0. */
async function serve(): Promise<void> {
  const t = await openTestStore('postgres', { adminUrl: ADMIN_URL, prefix: 'hie_bench_api' });
  const coordinator = new InProcessCoordinator();
  const log = pino({ level: 'warn' });
  await ensureFirstAdmin(t.store, PASSWORD);
  const admin = (await t.store.users.getByUsername('admin'))!;
  const manager = createManagerServer({ store: t.store, coordinator, log });
  const caller = createCaller(callerContext(manager.services, { id: admin.id, username: 'admin', displayName: 'admin', isAdmin: true }));
  const ws = await caller.workspaces.create({ name: 'Bench' });
  // The clients sign in as an analyst member (the usual case: role checks included), not the global admin.
  await caller.users.create({ username: 'analyst', password: PASSWORD });
  await caller.workspaces.setMember({ workspaceId: ws.id, username: 'analyst', role: 'analyst' });
  const projectIds: string[] = [];
  for (let i = 0; i < PROJECTS; i++) {
    const p = await caller.projects.create({ workspaceId: ws.id, name: `feed-${i}`, spec: spec(`feed-${i}`) });
    await caller.projects.save({ id: p.id, baseVersion: 1, spec: { ...spec(`feed-${i}`), description: 'v2' } });
    if (i % 2 === 0) await caller.production.deploy({ projectId: p.id });
    projectIds.push(p.id);
  }
  const fixed = JSON.stringify({ result: { data: { ok: true, projects: projectIds.slice(0, 5) } } });
  const baseline: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(fixed) });
    res.end(fixed);
  });
  const api: Server = createServer((req, res) => {
    void manager.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
  const ready: Ready = { manager: await listen(api), baseline: await listen(baseline), workspaceId: ws.id, projectIds };
  process.stdout.write(`READY ${JSON.stringify(ready)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void (async () => {
      await manager.close();
      api.closeAllConnections();
      baseline.closeAllConnections();
      api.close();
      baseline.close();
      await t.cleanup();
      process.exit(0);
    })();
  });
}

interface Phase {
  name: string;
  latencies: number[];
  errors: number;
  seconds: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** CLIENTS loops for `seconds`; each picks its next URL from `next(client, i)`. */
async function load(name: string, seconds: number, next: (client: number, i: number) => string, cookies: string[]): Promise<Phase[]> {
  const byKind = new Map<string, number[]>();
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const url = next(c, i);
        const t0 = performance.now();
        try {
          const res = await fetch(url, { headers: cookies[c] ? { cookie: cookies[c] } : {} });
          await res.arrayBuffer();
          if (!res.ok) errors++;
        } catch {
          errors++;
        }
        const kind = url.includes('projects.list') ? 'projects.list' : url.includes('projects.get') ? 'projects.get' : url.includes('health') ? 'health' : 'fixed JSON';
        const list = byKind.get(kind) ?? [];
        list.push(performance.now() - t0);
        byKind.set(kind, list);
      }
    }),
  );
  const phases = [...byKind].map(([kind, latencies]) => ({ name: `${name}: ${kind}`, latencies: latencies.sort((a, b) => a - b), errors: 0, seconds }));
  const all = [...byKind.values()].flat().sort((a, b) => a - b);
  if (phases.length > 1) phases.push({ name: `${name}: both`, latencies: all, errors, seconds });
  else phases[0].errors = errors;
  return phases;
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  // BENCH_CPU_PROF=<dir>: write a CPU profile of the server process there.
  const prof = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', self, '--serve', '--projects', String(PROJECTS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (.+)\n/.exec(out);
      if (m) resolve(JSON.parse(m[1]) as Ready);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const api = `http://127.0.0.1:${ready.manager}/api/trpc`;
  const base = `http://127.0.0.1:${ready.baseline}/`;
  try {
    // One session per client, as 50 portal users would have.
    const cookies: string[] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const res = await fetch(`${api}/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'analyst', password: PASSWORD }),
      });
      const set = res.headers.getSetCookie()[0];
      if (!res.ok || !set) throw new Error(`login failed: ${res.status}`);
      cookies.push(set.slice(0, set.indexOf(';')));
    }
    const listUrl = `${api}/projects.list?input=${encodeURIComponent(JSON.stringify({ workspaceId: ready.workspaceId }))}`;
    const getUrls = ready.projectIds.map((id) => `${api}/projects.get?input=${encodeURIComponent(JSON.stringify({ id }))}`);
    const managerNext = (c: number, i: number) => ((c + i) % 2 === 0 ? listUrl : getUrls[(c * 7 + i) % getUrls.length]);

    console.log(`manager API bench: ${CLIENTS} concurrent clients, ${SECONDS} s per phase, ${PROJECTS} projects, PostgreSQL`);
    // Warm-up (JIT, pools, caches), not measured.
    await load('warm-up', 1, () => base, []);
    await load('warm-up', 2, managerNext, cookies);

    const results = [
      ...(await load('baseline', SECONDS, () => base, [])),
      // tRPC with no database and no session: what the HTTP + tRPC layers alone cost.
      ...(await load('tRPC floor', Math.max(2, SECONDS / 3), () => `${api}/health`, [])),
      ...(await load('manager', SECONDS, managerNext, cookies)),
    ];
    const baseline = results[0];
    const bP50 = pct(baseline.latencies, 50);
    const bP95 = pct(baseline.latencies, 95);
    console.log(`\n${'phase'.padEnd(28)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}   ratio p50/p95 vs baseline`);
    for (const r of results) {
      const p50 = pct(r.latencies, 50);
      const p95 = pct(r.latencies, 95);
      const p99 = pct(r.latencies, 99);
      const ratio = r === baseline ? '' : `${(p50 / bP50).toFixed(1)}× / ${(p95 / bP95).toFixed(1)}×`;
      console.log(
        `${r.name.padEnd(28)}${(r.latencies.length / r.seconds).toFixed(0).padStart(9)}${p50.toFixed(2).padStart(9)}${p95.toFixed(2).padStart(9)}${p99.toFixed(2).padStart(9)}${String(r.errors).padStart(8)}   ${ratio}`,
      );
    }
    const both = results.find((r) => r.name === 'manager: both')!;
    const p95 = pct(both.latencies, 95);
    console.log(`\ntarget p95 ≤ 50 ms: ${p95 <= 50 ? 'MET' : 'MISSED'} (${p95.toFixed(2)} ms)`);
  } finally {
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
  }
}

if (values.serve) await serve();
else await main();
