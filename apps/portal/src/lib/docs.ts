/// <reference types="node" />
/**
 * The manual (docs/*.md at the repository root), read on the server and rendered with `marked`.
 * Offline: no external assets. Pages are our own files; slugs are checked so a URL can only name
 * a Markdown file under docs/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Marked, type Tokens } from 'marked';

/** One page of the manual. */
export interface DocPage {
  /** `guides/analyst` (no `.md`); `''` for docs/index.md. */
  slug: string;
  title: string;
  /** The top folder (`guides`, `reference`, …), or `''`. */
  section: string;
}

/** docs/: HIE_DOCS_DIR (set by `hie start`), else found from the working directory. */
export function docsRoot(): string | undefined {
  const candidates = [process.env.HIE_DOCS_DIR, path.resolve(process.cwd(), 'docs'), path.resolve(process.cwd(), '../../docs')];
  return candidates.find((d): d is string => !!d && existsSync(/*turbopackIgnore: true*/ path.join(d, 'index.md')));
}

const SEGMENT = /^[a-z0-9][a-z0-9._-]*$/i;

/** The file of a slug, or undefined when the slug is not a page. */
function fileOf(root: string, slug: string[]): string | undefined {
  if (!slug.every((s) => SEGMENT.test(s) && !s.includes('..'))) return undefined;
  const base = path.join(root, ...slug);
  for (const f of [`${base}.md`, path.join(base, 'index.md')]) if (existsSync(/*turbopackIgnore: true*/ f)) return f;
  return undefined;
}

const titleOf = (markdown: string, fallback: string) => /^#\s+(.+)$/m.exec(markdown)?.[1]?.replace(/`/g, '').trim() ?? fallback;

/** A heading's anchor: lower case, letters, digits and dashes (as GitHub makes them). */
export const anchorOf = (text: string) =>
  text
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^a-z0-9 -]/g, '')
    .trim()
    .replace(/ +/g, '-');

function walk(root: string, dir = root): string[] {
  return readdirSync(/*turbopackIgnore: true*/ dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? walk(root, path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.relative(root, path.join(dir, e.name))] : []));
}

const slugOfFile = (rel: string) =>
  rel
    .replace(/\.md$/, '')
    .split(path.sep)
    .join('/')
    .replace(/(^|\/)index$/, '');

/** A page and its Markdown, read once. */
export interface DocSource extends DocPage {
  markdown: string;
}

/** Every page with its Markdown, in folder order: each file is read once per request. */
export function readDocs(root: string): DocSource[] {
  return walk(root).map((rel) => {
    const slug = slugOfFile(rel);
    const markdown = readFileSync(/*turbopackIgnore: true*/ path.join(root, rel), 'utf8');
    return { slug, title: titleOf(markdown, slug || 'HIE'), section: slug.includes('/') ? slug.split('/')[0]! : '', markdown };
  });
}

/** Turns a relative `.md` link of the page at `slug` into its /docs URL. */
function docHref(href: string, fromFile: string): string {
  if (/^[a-z]+:|^\/|^#/i.test(href)) return href;
  const [target, hash] = href.split('#');
  if (!target!.endsWith('.md')) return href;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), target!));
  const slug = resolved.replace(/\.md$/, '').replace(/(^|\/)index$/, '');
  return `/docs${slug ? `/${slug}` : ''}${hash ? `#${hash}` : ''}`;
}

function renderer(fromFile: string): Marked {
  const m = new Marked({ gfm: true });
  m.use({
    renderer: {
      heading(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, token: Tokens.Heading) {
        const inner = this.parser.parseInline(token.tokens);
        return `<h${token.depth} id="${anchorOf(token.text)}">${inner}</h${token.depth}>\n`;
      },
      link(this: { parser: { parseInline(t: Tokens.Generic[]): string } }, token: Tokens.Link) {
        const inner = this.parser.parseInline(token.tokens);
        const href = docHref(token.href, fromFile).replace(/"/g, '&quot;');
        return `<a href="${href}">${inner}</a>`;
      },
      // No raw HTML from the Markdown files: shown as text.
      html(token: Tokens.HTML | Tokens.Tag) {
        return token.text.startsWith('<!--') ? '' : token.text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      },
    },
  });
  return m;
}

/** A page rendered to HTML, or undefined when there is none at that slug. */
export function readDoc(root: string, slug: string[]): { title: string; html: string; file: string } | undefined {
  const file = fileOf(root, slug);
  if (!file) return undefined;
  const markdown = readFileSync(/*turbopackIgnore: true*/ file, 'utf8');
  const rel = path.relative(root, file).split(path.sep).join('/');
  return { title: titleOf(markdown, slug.join('/')), html: renderer(rel).parse(markdown, { async: false }), file: rel };
}

/** Plain text of every page, for the search box (Markdown marks stripped). */
export function searchIndex(pages: readonly DocSource[]): { slug: string; title: string; text: string }[] {
  return pages.map((p) => {
    const text = p.markdown
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/[#*`|>_[\]()-]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return { slug: p.slug, title: p.title, text };
  });
}
