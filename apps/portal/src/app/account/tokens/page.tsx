'use client';
import { AppShell } from '../../../components/app-shell';
import { TokensPanel } from '../../../components/tokens-panel';

export default function TokensPage() {
  return (
    <AppShell>
      <div className="page">
        <title>API tokens · HIE</title>
        <div className="page-header">
          <div className="titles">
            <h1>API tokens</h1>
            <p>
              For CI pipelines: <code>HIE_TOKEN=… hie apply -f ./lab --project lab --deploy --environment test</code>. A token acts for you, in one
              workspace, with a role no higher than yours; it expires and can be revoked at any time.
            </p>
          </div>
        </div>
        <TokensPanel />
      </div>
    </AppShell>
  );
}
