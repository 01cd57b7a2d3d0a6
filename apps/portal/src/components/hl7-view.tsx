'use client';
import { Fragment, useMemo, useState, type MouseEvent, type ReactNode } from 'react';
import { describePath, parseHl7, type Hl7Message } from '../lib/hl7';

/**
 * The raw message as sent, with segment names in bold, separators subdued and every field and
 * component hoverable: the read-out under it says where the pointer is (PID-5.1 Patient Name ›
 * Family Name) and what is there.
 */
export function Hl7Raw({ raw }: { raw: string }) {
  const msg = useMemo(() => parseHl7(raw), [raw]);
  const [hover, setHover] = useState<{ label: string; value: string } | null>(null);
  const onOver = (e: MouseEvent<HTMLPreElement>) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>('[data-path]');
    if (!el) return setHover(null);
    setHover({ label: el.dataset.label ?? el.dataset.path ?? '', value: el.dataset.value ?? '' });
  };
  return (
    <div className="stack" style={{ gap: 4 }}>
      <pre className="hl7-raw" data-testid="hl7-raw" onMouseOver={onOver} onMouseLeave={() => setHover(null)} aria-label="Raw HL7 message">
        {msg.segments.map((seg, si) => (
          <Fragment key={si}>
            <SegmentLine msg={msg} segIndex={si} />
            {'\n'}
          </Fragment>
        ))}
      </pre>
      <div className="small mono" aria-live="polite" data-testid="hl7-hover" style={{ minHeight: 18, color: 'var(--text-2)' }}>
        {hover ? (
          <>
            <strong>{hover.label}</strong>
            {hover.value ? <> = {hover.value}</> : null}
          </>
        ) : (
          <span className="muted">Point at a field to see its path and name.</span>
        )}
      </div>
    </div>
  );
}

function SegmentLine({ msg, segIndex }: { msg: Hl7Message; segIndex: number }) {
  const seg = msg.segments[segIndex]!;
  const header = seg.name === 'MSH' || seg.name === 'FHS' || seg.name === 'BHS';
  const sep = (ch: string, k: string) => (
    <span className="sep" key={k}>
      {ch}
    </span>
  );
  const out: ReactNode[] = [
    <span className="seg" key="n">
      {seg.name}
    </span>,
  ];
  for (const f of seg.fields) {
    if (header && f.index === 1) {
      out.push(
        <span key="f1" className="sep fld" data-path={f.path} data-label={describePath(seg.name, 1)} data-value={f.value} title={describePath(seg.name, 1)}>
          {f.value}
        </span>,
      );
      continue;
    }
    out.push(sep(msg.fieldSep, `s${f.index}`));
    if (header && f.index === 2) {
      out.push(
        <span key="f2" className="fld" data-path={f.path} data-label={describePath(seg.name, 2)} data-value={f.value} title={describePath(seg.name, 2)}>
          {f.value}
        </span>,
      );
      continue;
    }
    const fieldLabel = describePath(seg.name, f.index);
    out.push(
      <span key={`f${f.index}`} className="fld" data-path={f.path} data-label={fieldLabel} data-value={f.value} title={fieldLabel}>
        {f.repetitions.map((rep, ri) => (
          <Fragment key={ri}>
            {ri > 0 ? sep(msg.repetitionSep, `r${ri}`) : null}
            {rep.length === 1
              ? rep[0]!.value
              : rep.map((c, ci) => {
                  const label = describePath(seg.name, f.index, c.index) + (f.repetitions.length > 1 ? ` (repetition ${ri + 1})` : '');
                  return (
                    <Fragment key={ci}>
                      {ci > 0 ? sep(msg.componentSep, `c${ci}`) : null}
                      <span data-path={c.path} data-label={label} data-value={c.value} title={label}>
                        {c.value}
                      </span>
                    </Fragment>
                  );
                })}
          </Fragment>
        ))}
      </span>,
    );
  }
  return <>{out}</>;
}

/** The message as a tree: segments → fields (with names) → components. */
export function Hl7Tree({ raw }: { raw: string }) {
  const msg = useMemo(() => parseHl7(raw), [raw]);
  const [showEmpty, setShowEmpty] = useState(false);
  return (
    <div className="stack" style={{ gap: 4 }}>
      <label className="field inline small" style={{ fontWeight: 400 }}>
        <input type="checkbox" checked={showEmpty} onChange={(e) => setShowEmpty(e.target.checked)} /> Show empty fields
      </label>
      <div className="hl7-tree" data-testid="hl7-tree">
        {msg.segments.map((seg, si) => (
          <details key={si} open={si < 6}>
            <summary>
              {seg.name}
              {seg.occurrence > 1 || msg.segments.filter((s) => s.name === seg.name).length > 1 ? ` [${seg.occurrence}]` : ''}
            </summary>
            {seg.fields
              .filter((f) => showEmpty || f.value !== '')
              .map((f) => (
                <Fragment key={f.index}>
                  <div className="f">
                    <span className="p">{f.path}</span>
                    <span>{f.name ?? ''}</span>
                    <span className="v">{f.value}</span>
                  </div>
                  {f.repetitions.length > 1 || (f.repetitions[0]?.length ?? 0) > 1
                    ? f.repetitions.map((rep, ri) =>
                        rep
                          .filter((c) => showEmpty || c.value !== '')
                          .map((c) => (
                            <div className="f" key={`${ri}-${c.index}`} style={{ paddingLeft: 30 }}>
                              <span className="p">
                                {c.path}
                                {f.repetitions.length > 1 ? `[${ri + 1}]` : ''}
                              </span>
                              <span className="muted">{c.name ?? ''}</span>
                              <span className="v">{c.value}</span>
                            </div>
                          )),
                      )
                    : null}
                </Fragment>
              ))}
          </details>
        ))}
      </div>
    </div>
  );
}
