import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No Docker engine runs on the development machines: these checks read the Dockerfiles. The images
// must run the compiled build (npm run build), never TypeScript through tsx.

const read = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');

/** The instructions of each stage (`FROM` starts one), comments and blank lines left out. */
function stages(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('FROM ')) out.push([]);
    out[out.length - 1]?.push(line);
  }
  return out;
}

describe.each(['engine.Dockerfile', 'manager.Dockerfile'])('docker/%s', (file) => {
  const [build, runtime, ...more] = stages(read(`./${file}`));

  it('has a build stage that installs everything and runs npm run build, then a runtime stage', () => {
    expect(more).toEqual([]);
    expect(build[0]).toMatch(/^FROM \S+ AS build$/);
    expect(build.join('\n')).toMatch(/RUN npm ci\b[^\n]*\n(?:.*\n)*RUN npm run build/);
    expect(runtime[0]).toMatch(/^FROM /);
  });

  it('runs the build in the runtime stage: dist and production dependencies, HIE_BUILD=on, no TypeScript', () => {
    const text = runtime.join('\n');
    expect(text).toContain('COPY --from=build /app/dist/ dist/');
    expect(text).toMatch(/RUN npm ci --omit=dev/);
    expect(text).toMatch(/^ENV .*\bHIE_BUILD=on\b/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "bin\/hie\.mjs"\]$/m);
    // No server sources (bin/*.ts, apps/engine, apps/manager, libs' src) and no tsx anywhere.
    expect(text).not.toMatch(/tsx/);
    expect(text).not.toMatch(/^COPY (\. |--from=build \/app \/app)/m);
    expect(text).not.toMatch(/^COPY (--from=build \/app\/)?(apps\/(engine|manager)|bin)\/ /m);
    expect(text).toMatch(/rm -rf libs\/\*\/src/);
  });
});
