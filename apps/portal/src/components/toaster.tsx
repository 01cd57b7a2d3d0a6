'use client';
import { dismissToast, useToasts } from '../lib/toast';

/** Toasts for API errors (message, code and every problem) and confirmations. */
export function Toaster() {
  const toasts = useToasts();
  return (
    <div className="toaster" aria-live="polite" data-testid="toaster">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid={`toast-${t.kind}`}>
          <div className="body">
            <div className="title">
              {t.title}
              {t.code && t.kind === 'error' ? <span className="muted small"> ({t.code})</span> : null}
            </div>
            {t.problems.length > 0 ? (
              <ul>
                {t.problems.slice(0, 30).map((p, i) => (
                  <li key={i}>
                    {p.pathText ? <code>{p.pathText}</code> : null} {p.message}
                  </li>
                ))}
                {t.problems.length > 30 ? <li>… {t.problems.length - 30} more</li> : null}
              </ul>
            ) : null}
          </div>
          <button type="button" className="ghost icon small" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
