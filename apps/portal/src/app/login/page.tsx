'use client';
import { Suspense, useState, type FormEvent } from 'react';
import { useRouter, useSearchParams } from 'next/navigation';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../../lib/trpc';
import { apiError } from '../../lib/errors';
import { safeNextPath } from '../../lib/safe-next';

function LoginForm() {
  const trpc = useTRPC();
  const router = useRouter();
  const params = useSearchParams();
  const qc = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      meta: { silentError: true, authFlow: true },
      onSuccess: async () => {
        await qc.invalidateQueries();
        // Only paths on this origin: never an open redirect.
        router.replace(safeNextPath(params.get('next'), window.location.origin));
      },
    }),
  );
  const error = login.error ? apiError(login.error) : undefined;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password) return;
    login.mutate({ username: username.trim(), password });
  };
  return (
    <form className="card login-card stack" onSubmit={onSubmit} aria-labelledby="login-title">
      <div className="brand">
        <svg width="34" height="34" viewBox="0 0 32 32" aria-hidden>
          <rect width="32" height="32" rx="7" fill="#0f5fa8" />
          <path d="M8 9v14M8 16h8M16 9v14M22 9v14" stroke="#fff" strokeWidth="3" strokeLinecap="round" />
        </svg>
        <div>
          <h1 id="login-title" style={{ margin: 0 }}>
            Sign in to HIE
          </h1>
          <div className="muted small">Healthcare integration engine</div>
        </div>
      </div>
      {error ? (
        <div className="banner error" role="alert" data-testid="login-error">
          {error.code === 'UNAUTHORIZED' || error.code === 'BAD_REQUEST' ? 'Wrong username or password.' : error.message}
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="username">Username</label>
        <input id="username" name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <button type="submit" className="primary" disabled={login.isPending} style={{ justifyContent: 'center' }}>
        {login.isPending ? <span className="spinner" aria-hidden /> : null}
        Sign in
      </button>
      <p className="muted small" style={{ margin: 0 }}>
        First start? Sign in as <code>admin</code> with the password from <code>HIE_ADMIN_PASSWORD</code>, or the one-time password
        <code> hie start</code> printed.
      </p>
    </form>
  );
}

export default function LoginPage() {
  return (
    <div className="login-wrap">
      <Suspense fallback={null}>
        <LoginForm />
      </Suspense>
    </div>
  );
}
