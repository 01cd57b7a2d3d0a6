'use client';
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';

interface DialogProps {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  testId?: string;
  /** When given, the body and footer are wrapped in a form submitted by Enter / the submit button. */
  onSubmit?: () => void;
}

/** A modal on the native <dialog>: focus trap, Esc to close and a backdrop for free. */
export function Dialog({ open, onClose, title, children, footer, wide, testId, onSubmit }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const content = (
    <>
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
      </div>
      <div className="dialog-body">{children}</div>
      {footer ? <div className="dialog-foot">{footer}</div> : null}
    </>
  );
  return (
    <dialog
      ref={ref}
      className={wide ? 'wide' : undefined}
      aria-labelledby={titleId}
      data-testid={testId}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open ? (
        onSubmit ? (
          <form
            method="dialog"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              onSubmit();
            }}
          >
            {content}
          </form>
        ) : (
          content
        )
      ) : null}
    </dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}

/** "Are you sure?" with the consequence spelt out and the destructive button last. */
export function ConfirmDialog({ open, title, message, confirmLabel = 'Confirm', danger, busy, onConfirm, onClose }: ConfirmProps) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={title}
      testId="confirm-dialog"
      onSubmit={onConfirm}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={danger ? 'danger solid' : 'primary'} disabled={busy} autoFocus>
            {busy ? <span className="spinner" aria-hidden /> : null}
            {confirmLabel}
          </button>
        </>
      }
    >
      <div>{message}</div>
    </Dialog>
  );
}

export interface PromptField {
  name: string;
  label: string;
  initial?: string;
  required?: boolean;
  placeholder?: string;
  multiline?: boolean;
  type?: 'text' | 'password';
  help?: string;
}

interface PromptProps {
  open: boolean;
  title: string;
  fields: PromptField[];
  submitLabel: string;
  busy?: boolean;
  onSubmit: (values: Record<string, string>) => void;
  onClose: () => void;
  children?: ReactNode;
}

/** A small form in a dialog (create / rename / clone). */
export function PromptDialog({ open, title, fields, submitLabel, busy, onSubmit, onClose, children }: PromptProps) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [touched, setTouched] = useState(false);
  const baseId = useId();
  // Reset to the initial values whenever the dialog opens.
  const [wasOpen, setWasOpen] = useState(false);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) {
      setValues(Object.fromEntries(fields.map((f) => [f.name, f.initial ?? ''])));
      setTouched(false);
    }
  }
  const missing = fields.filter((f) => f.required && !(values[f.name] ?? '').trim());
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={title}
      testId="prompt-dialog"
      onSubmit={() => {
        setTouched(true);
        if (missing.length === 0) onSubmit(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()])));
      }}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? <span className="spinner" aria-hidden /> : null}
            {submitLabel}
          </button>
        </>
      }
    >
      <div className="form-grid">
        {fields.map((f, i) => {
          const id = `${baseId}-${f.name}`;
          const invalid = touched && f.required && !(values[f.name] ?? '').trim();
          return (
            <div className="field" key={f.name}>
              <label htmlFor={id}>
                {f.label}
                {f.required ? <span aria-hidden="true"> *</span> : null}
              </label>
              {f.multiline ? (
                <textarea
                  id={id}
                  rows={3}
                  value={values[f.name] ?? ''}
                  placeholder={f.placeholder}
                  onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  style={{ fontFamily: 'inherit', fontSize: 'inherit' }}
                />
              ) : (
                <input
                  id={id}
                  type={f.type ?? 'text'}
                  autoFocus={i === 0}
                  aria-required={f.required || undefined}
                  value={values[f.name] ?? ''}
                  placeholder={f.placeholder}
                  aria-invalid={invalid || undefined}
                  onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                />
              )}
              {invalid ? <span className="error-text">{f.label} is required</span> : null}
              {f.help ? <span className="help">{f.help}</span> : null}
            </div>
          );
        })}
        {children}
      </div>
    </Dialog>
  );
}
