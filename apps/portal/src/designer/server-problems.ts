import type { Spec } from './spec';
import type { DesignProblem } from './validation';

/**
 * The server's problems that still apply: a problem of an item goes once that item is changed
 * (renamed, edited or removed); a production-level problem goes once anything but the items'
 * positions changes. The next save asks the server again.
 */
export function currentServerProblems(problems: DesignProblem[], refused: Spec | null, spec: Spec): DesignProblem[] {
  if (!refused || problems.length === 0) return [];
  const itemText = (s: Spec, name: string) => {
    const it = s.items.find((i) => i.name === name);
    if (!it) return undefined;
    const { position: _p, ...rest } = it;
    return JSON.stringify(rest);
  };
  const shape = (s: Spec) => JSON.stringify({ ...s, items: s.items.map(({ position: _p, ...rest }) => rest) });
  const sameProduction = shape(refused) === shape(spec);
  return problems.filter((p) => {
    if (p.item === undefined) return sameProduction;
    const now = itemText(spec, p.item);
    return now !== undefined && now === itemText(refused, p.item);
  });
}
