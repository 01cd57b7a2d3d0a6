/**
 * `npm run bench -- <name> [args…]`: run one benchmark (each prints its figures beside a baseline
 * measured in the same run). Benchmarks are not tests: nothing here asserts on timing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const benches: Record<string, string> = {
  hl7: 'lazy and full HL7 parse vs @medplum/core over the shared corpus',
  rules: 'routing decisions of hl7.router and fhir.router rules vs the same rules written by hand',
  fhir: 'FHIR R4 parse and validate vs JSON.parse and @medplum/core validateResource over the official examples',
  queues: 'put+take per queue type vs plain arrays',
  store: 'group-commit writer vs naive/raw inserts; search over 1M messages',
  retention: 'purge 1M messages by day-partition drop vs batched DELETE; search over 10M partitioned messages',
  e2e: 'MLLP in → router → MLLP out vs a bare echo server (--store: store on vs off; --tracing: OpenTelemetry off vs on)',
  api: 'manager API p50/p95 under 50 clients vs a bare HTTP handler',
  designer: 'designer with 200 items: time to interactive and frame times while panning',
  cluster: 'a bus hop: in-process vs Redis Streams bus (bare, one node); then the same load over 1, 2 and 3 engine nodes',
  footprint: 'hie run / hie start: time to ready and idle RSS, from the build vs through tsx vs an empty node',
};

const [name, ...args] = process.argv.slice(2);
if (!name || !benches[name]) {
  console.log('Usage: npm run bench -- <name> [args…]\n');
  for (const [n, d] of Object.entries(benches)) console.log(`  ${n.padEnd(10)} ${d}`);
  process.exit(name ? 2 : 0);
}
// `cluster` has two parts: the cost of a bus hop (cluster.ts), then 1, 2 and 3 nodes (cluster-scale.ts).
const files = name === 'cluster' ? ['cluster', 'cluster-scale'] : [name];
for (const f of files) {
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), `${f}.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
