/**
 * What `hie` runs once bin/hie.mjs has chosen the build or the sources: `hie start` (the
 * composition root), `hie export`/`hie apply` (GitOps: clients of the manager API) or the
 * engine's CLI. Imported lazily: `hie run` never loads the manager.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] === 'start' && !args.includes('--help') && !args.includes('-h')) {
    const { start } = await import('./start');
    return start();
  }
  if (args[0] === 'export' || args[0] === 'apply') {
    const { gitops, GITOPS_HELP } = await import('./gitops');
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`${GITOPS_HELP[args[0]]}\n`);
      return 0;
    }
    return gitops(args[0], args.slice(1), (line) => process.stdout.write(`${line}\n`));
  }
  const { main: cli } = await import('../apps/engine/src/cli');
  return cli(args);
}
