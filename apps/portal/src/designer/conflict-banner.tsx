'use client';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../lib/trpc';
import { DiffView } from './versions-drawer';

interface Props {
  projectId: string;
  /** The version this editor started from. */
  baseVersion: number;
  onLoadLatest: () => void;
  onOverwrite: () => void;
  onKeepEditing: () => void;
}

/**
 * Someone saved while you edited. Before "Save mine on top", show what they changed (their
 * version against the one you started from): that is what your save would overwrite.
 */
export function ConflictBanner({ projectId, baseVersion, onLoadLatest, onOverwrite, onKeepEditing }: Props) {
  const trpc = useTRPC();
  const versions = useQuery(trpc.versions.list.queryOptions({ projectId }, { staleTime: 0 }));
  const latest = (versions.data ?? []).reduce((m, v) => Math.max(m, v.version), 0);
  const theirs = (versions.data ?? []).filter((v) => v.version > baseVersion);
  const diff = useQuery(trpc.versions.diff.queryOptions({ projectId, from: baseVersion, to: latest }, { enabled: latest > baseVersion }));
  return (
    <div className="banner warning" role="alert" style={{ margin: 0, maxWidth: 620, maxHeight: '60vh', overflow: 'auto' }} data-testid="conflict-banner">
      Someone saved a newer version of this project while you were editing. Your changes are still here but cannot be saved on top of it.{' '}
      <button type="button" className="small" onClick={onLoadLatest}>
        Load the latest version
      </button>{' '}
      <button type="button" className="small" onClick={onOverwrite} title="Save your version as the newest; the other change stays in the version history">
        Save mine on top
      </button>{' '}
      <button type="button" className="small" onClick={onKeepEditing}>
        Keep editing
      </button>
      {latest > baseVersion ? (
        <details open style={{ marginTop: 8 }} data-testid="conflict-diff">
          <summary>
            What “Save mine on top” would overwrite: v{baseVersion} → v{latest}
            {theirs.length > 0 ? ` (${[...new Set(theirs.map((v) => v.author ?? 'someone'))].join(', ')})` : ''}
          </summary>
          {diff.data ? <DiffView diff={diff.data} /> : <span className="muted small">Loading the other change…</span>}
        </details>
      ) : null}
    </div>
  );
}
