import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The portal's one stylesheet is edited by many hands and merged often. One lost `}` silently
 * turns every later rule into garbage (it happened: the status rings and the transform editor's
 * drop targets lost their styles). Browsers report nothing, so this test does.
 */
describe('global.css', () => {
  const css = readFileSync(new URL('./global.css', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');

  it('has balanced braces, and no rule starts inside another (outside @media / @keyframes)', () => {
    let depth = 0;
    let inAt = 0;
    const problems: string[] = [];
    css.split('\n').forEach((line, i) => {
      const top = line.length > 0 && !/^\s/.test(line) && !line.startsWith('}');
      if (top && depth > 0 && inAt === 0) problems.push(`line ${i + 1}: "${line.trim()}" starts inside an open block`);
      if (top && line.startsWith('@') && line.includes('{')) inAt = depth + 1;
      for (const ch of line) {
        if (ch === '{') depth++;
        if (ch === '}') {
          depth--;
          if (depth < inAt) inAt = 0;
        }
      }
      if (depth < 0) problems.push(`line ${i + 1}: a "}" closes nothing`);
    });
    expect(problems).toEqual([]);
    expect(depth).toBe(0);
  });
});
