'use client';
import { useId, useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Dialog } from './dialog';
import { useTRPC } from '../lib/trpc';
import { apiError } from '../lib/errors';
import { toast } from '../lib/toast';

/** The manager's rule (auth/password-policy.ts): checked here first only to answer sooner. */
const MIN_LENGTH = 12;

/** Any signed-in user changes their own password; their other sessions are signed out. */
export function ChangePasswordDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [touched, setTouched] = useState(false);
  const [wasOpen, setWasOpen] = useState(false);
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      meta: { silentError: true },
      onSuccess: (r) => {
        const others = r.sessionsEnded === 1 ? '1 other session was' : `${r.sessionsEnded} other sessions were`;
        toast.success(`Password changed. ${r.sessionsEnded > 0 ? `${others} signed out.` : ''}`.trim());
        onClose();
      },
    }),
  );
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) {
      setCurrent('');
      setNext('');
      setRepeat('');
      setTouched(false);
      change.reset();
    }
  }
  const tooShort = next.length < MIN_LENGTH;
  const mismatch = next !== repeat;
  const error = change.error ? apiError(change.error) : undefined;
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Change password"
      testId="change-password-dialog"
      onSubmit={() => {
        setTouched(true);
        if (current && !tooShort && !mismatch) change.mutate({ current, next });
      }}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={change.isPending}>
            {change.isPending ? <span className="spinner" aria-hidden /> : null}
            Change password
          </button>
        </>
      }
    >
      {error && error.code !== 'UNAUTHORIZED' ? (
        <div className="banner error" role="alert">
          {error.message}
        </div>
      ) : null}
      <div className="form-grid">
        <PasswordField id={`${id}-c`} label="Current password" autoComplete="current-password" value={current} onChange={setCurrent} autoFocus />
        <PasswordField
          id={`${id}-n`}
          label="New password"
          autoComplete="new-password"
          value={next}
          onChange={setNext}
          error={touched && tooShort ? `At least ${MIN_LENGTH} characters` : undefined}
          help={`At least ${MIN_LENGTH} characters.`}
        />
        <PasswordField
          id={`${id}-r`}
          label="Repeat the new password"
          autoComplete="new-password"
          value={repeat}
          onChange={setRepeat}
          error={touched && mismatch ? 'The two new passwords differ' : undefined}
        />
      </div>
    </Dialog>
  );
}

interface PasswordFieldProps {
  id: string;
  label: string;
  autoComplete: 'current-password' | 'new-password';
  value: string;
  onChange: (value: string) => void;
  autoFocus?: boolean;
  error?: string;
  help?: string;
}

function PasswordField({ id, label, autoComplete, value, onChange, autoFocus, error, help }: PasswordFieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        autoComplete={autoComplete}
        autoFocus={autoFocus}
        aria-invalid={error ? true : undefined}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      {error ? <span className="error-text">{error}</span> : help ? <span className="help">{help}</span> : null}
    </div>
  );
}
