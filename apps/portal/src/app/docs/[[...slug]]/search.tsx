'use client';
import Link from 'next/link';
import { useMemo, useState } from 'react';

interface Entry {
  slug: string;
  title: string;
  text: string;
}

/** Where the words are in a page: every word must be there; the title weighs more. */
function score(e: Entry, words: string[]): number {
  const title = e.title.toLowerCase();
  const text = e.text.toLowerCase();
  let total = 0;
  for (const w of words) {
    const inTitle = title.includes(w);
    const at = text.indexOf(w);
    if (!inTitle && at < 0) return 0;
    total += (inTitle ? 10 : 0) + (at >= 0 ? 1 : 0);
  }
  return total;
}

function snippet(text: string, word: string): string {
  const at = text.toLowerCase().indexOf(word);
  if (at < 0) return text.slice(0, 120);
  const start = Math.max(0, at - 50);
  return `${start > 0 ? '…' : ''}${text.slice(start, at + 90)}…`;
}

/** Search over the manual, in the browser: no server, no external service. */
export function DocsSearch({ index }: { index: Entry[] }) {
  const [q, setQ] = useState('');
  const words = useMemo(
    () =>
      q
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w.length > 1),
    [q],
  );
  const hits = useMemo(
    () =>
      words.length === 0
        ? []
        : index
            .map((e) => ({ e, s: score(e, words) }))
            .filter((h) => h.s > 0)
            .sort((a, b) => b.s - a.s)
            .slice(0, 12),
    [index, words],
  );
  return (
    <div className="docs-search">
      <input type="search" placeholder="Search the manual" aria-label="Search the manual" value={q} onChange={(e) => setQ(e.target.value)} />
      {words.length > 0 && (
        <ul className="docs-hits" aria-label="Search results">
          {hits.length === 0 && <li className="muted">Nothing found</li>}
          {hits.map(({ e }) => (
            <li key={e.slug}>
              <Link href={`/docs${e.slug ? `/${e.slug}` : ''}`} onClick={() => setQ('')}>
                <strong>{e.title}</strong>
                <span>{snippet(e.text, words[0]!)}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
