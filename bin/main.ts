/**
 * What `hie` runs once bin/hie.mjs has chosen the build or the sources: `hie start` (the
 * composition root) or the engine's CLI. Imported lazily: `hie run` never loads the manager.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] === 'start' && !args.includes('--help') && !args.includes('-h')) {
    const { start } = await import('./start');
    return start();
  }
  const { main: cli } = await import('../apps/engine/src/cli');
  return cli(args);
}
