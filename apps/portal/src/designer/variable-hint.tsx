'use client';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { findReferences, replaceReferences } from '@hie/config';
import { useProject } from '../components/project-context';
import { useTRPC } from '../lib/trpc';

/**
 * The settings of an item that hold `${…}` references, each with its resolved value in every
 * environment of the workspace, shown on hover or focus (secrets as •••, missing values named).
 */
export function ItemVariables({ name, settings }: { name: string; settings: unknown }) {
  const refs = findReferences({ items: [{ name, settings }] });
  if (refs.length === 0) return null;
  return (
    <div className="small" data-testid="item-variables" style={{ margin: '6px 0' }}>
      <span className="muted">Variables: </span>
      {refs.map((r) => (
        <ReferenceHint key={r.path.join('.')} path={r.path.join('.')} value={r.value} />
      ))}
    </div>
  );
}

function ReferenceHint({ path, value }: { path: string; value: string }) {
  const trpc = useTRPC();
  const { project } = useProject();
  const [open, setOpen] = useState(false);
  const envs = useQuery(trpc.environments.list.queryOptions({ workspaceId: project.workspaceId }, { staleTime: 10_000, enabled: open }));
  const resolved = (envs.data ?? []).map((env) => {
    const plain = new Map(env.variables.filter((v) => !v.secret).map((v) => [v.name, v.value]));
    const secrets = new Set(env.variables.filter((v) => v.secret).map((v) => v.name));
    let missing = false;
    const text = replaceReferences(value, (r, written) => {
      const found = r.secret ? (secrets.has(r.name) ? '•••' : undefined) : plain.get(r.name);
      if (found === undefined) missing = true;
      return found ?? written;
    });
    return { env: env.name, text, missing };
  });
  return (
    <span
      style={{ position: 'relative', display: 'inline-block', marginRight: 6 }}
      onMouseEnter={() => setOpen(true)}
      onMouseLeave={() => setOpen(false)}
      onFocus={() => setOpen(true)}
      onBlur={() => setOpen(false)}
    >
      <code tabIndex={0} data-testid={`variable-${path}`} aria-describedby={open ? `hint-${path}` : undefined} style={{ cursor: 'help' }}>
        {path}: {value}
      </code>
      {open ? (
        <span
          role="tooltip"
          id={`hint-${path}`}
          data-testid="variable-tooltip"
          className="card small"
          style={{ position: 'absolute', zIndex: 20, top: '100%', left: 0, whiteSpace: 'nowrap', padding: '4px 8px' }}
        >
          {envs.isPending ? 'Loading…' : resolved.length === 0 ? 'No environments in this workspace' : null}
          {resolved.map((r) => (
            <span key={r.env} style={{ display: 'block' }}>
              <strong>{r.env}</strong>: {r.missing ? <span className="muted">not set ({r.text})</span> : <code>{r.text}</code>}
            </span>
          ))}
        </span>
      ) : null}
    </span>
  );
}
