import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { EngineError } from './runtime/errors';

/** Read a production file (JSON or YAML). Syntax errors are user errors with the position. */
export async function readProductionFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new EngineError('config.file', `cannot read ${file}: ${(e as Error).message}`, 'user');
  }
  try {
    return /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new EngineError('config.syntax', `${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`, 'user');
  }
}
