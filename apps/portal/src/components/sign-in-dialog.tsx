'use client';
import { useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Dialog } from './dialog';
import { useTRPC } from '../lib/trpc';
import { apiError } from '../lib/errors';
import { signedInAgain, useSessionGate } from '../lib/session-gate';
import { toast } from '../lib/toast';

/**
 * Shown over the page when the session has ended (expired, signed out elsewhere, password
 * changed): sign in again without leaving the page, then every query on screen refetches.
 * Signing in as someone else reloads the portal, so nothing of the previous user's shows.
 */
export function SignInDialog() {
  const { open } = useSessionGate();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const id = useId();
  const previous = qc.getQueryData(trpc.auth.me.queryKey())?.user;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [wasOpen, setWasOpen] = useState(false);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) {
      setUsername(previous?.username ?? '');
      setPassword('');
    }
  }
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      // Its UNAUTHORIZED is a wrong password, shown here: not another "session ended".
      meta: { silentError: true, authFlow: true },
      onSuccess: async (r) => {
        setPassword('');
        if (previous && r.user.id !== previous.id) {
          qc.clear();
          window.location.assign('/');
          return;
        }
        const { failedWrite } = signedInAgain();
        await qc.invalidateQueries();
        if (failedWrite) toast.info('Signed in again. Your unsaved work is kept: repeat the action that was refused.');
      },
    }),
  );
  const error = login.error ? apiError(login.error) : undefined;
  return (
    <Dialog
      open={open}
      // Not dismissable: the page beneath cannot work signed out. Leaving is a link below.
      onClose={() => undefined}
      title="Your session has ended"
      testId="sign-in-dialog"
      onSubmit={() => {
        if (username.trim() && password) login.mutate({ username: username.trim(), password });
      }}
      footer={
        <>
          <button
            type="button"
            className="ghost"
            onClick={() => window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`)}
          >
            Go to the sign-in page
          </button>
          <button type="submit" className="primary" disabled={login.isPending || !username.trim() || !password}>
            {login.isPending ? <span className="spinner" aria-hidden /> : null}
            Sign in
          </button>
        </>
      }
    >
      <p className="muted" style={{ marginTop: 0 }}>
        Sign in again to carry on. Nothing on this page is lost.
      </p>
      {error ? (
        <div className="banner error" role="alert">
          {error.code === 'UNAUTHORIZED' || error.code === 'BAD_REQUEST' ? 'Wrong username or password.' : error.message}
        </div>
      ) : null}
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-u`}>Username</label>
          <input id={`${id}-u`} autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-p`}>Password</label>
          <input id={`${id}-p`} type="password" autoComplete="current-password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
      </div>
    </Dialog>
  );
}
