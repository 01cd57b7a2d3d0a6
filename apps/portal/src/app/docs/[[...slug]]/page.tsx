import Link from 'next/link';
import { notFound } from 'next/navigation';
import { docsRoot, readDoc, readDocs, searchIndex } from '../../../lib/docs';
import { DocsSearch } from './search';

const SECTIONS: Record<string, string> = { '': 'Start', guides: 'Guides', reference: 'Reference' };

/** The manual at /docs: the Markdown of docs/, rendered, with a page list and a search box. */
export default async function DocsPage({ params }: { params: Promise<{ slug?: string[] }> }) {
  const { slug = [] } = await params;
  const root = docsRoot();
  if (!root) {
    return (
      <div className="page">
        <div className="empty">The manual (docs/) was not found beside this installation. Set HIE_DOCS_DIR to its folder.</div>
      </div>
    );
  }
  const page = readDoc(root, slug);
  if (!page) notFound();
  const pages = readDocs(root);
  const current = slug.join('/');
  // Item-type pages are many: the sidebar lists the reference's index pages, not each type.
  const nav = pages.filter((p) => !/^reference\/item-types\/.+/.test(p.slug));
  const sections = [...new Set(nav.map((p) => p.section))];
  return (
    <div className="docs">
      <title>{`${page.title} · HIE manual`}</title>
      <aside className="docs-nav" aria-label="Manual">
        <div className="docs-brand">
          <Link href="/docs">HIE manual</Link>
          <Link href="/" className="docs-portal">
            Portal →
          </Link>
        </div>
        <DocsSearch index={searchIndex(pages)} />
        {sections.map((s) => (
          <nav key={s}>
            <div className="docs-section">{SECTIONS[s] ?? s}</div>
            <ul>
              {nav
                .filter((p) => p.section === s)
                .map((p) => (
                  <li key={p.slug}>
                    <Link href={`/docs${p.slug ? `/${p.slug}` : ''}`} aria-current={p.slug === current ? 'page' : undefined}>
                      {p.title}
                    </Link>
                  </li>
                ))}
            </ul>
          </nav>
        ))}
      </aside>
      <article className="docs-body" dangerouslySetInnerHTML={{ __html: page.html }} />
    </div>
  );
}
