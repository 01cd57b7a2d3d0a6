'use client';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { findReferences } from '@hie/config';
import { useProject } from '../components/project-context';
import { useTRPC } from '../lib/trpc';
import { resolveForHint } from './variable-hint-model';

/**
 * The settings of an item that hold `${…}` references, each with its resolved value in every
 * environment of the workspace, shown on hover or focus (secrets as •••, with the hosts each may be
 * sent to; missing values named).
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
  const resolved = (envs.data ?? []).map((env) => resolveForHint(value, env));
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
              {r.hostsOf.map((h) => (
                <span key={h.name} className="muted" data-testid={`variable-hosts-${h.name}`}>
                  {' '}
                  · {h.name} {h.hosts.length > 0 ? `may be sent to ${h.hosts.join(', ')}` : 'may be sent to no host yet (a deploy is refused)'}
                </span>
              ))}
            </span>
          ))}
        </span>
      ) : null}
    </span>
  );
}
