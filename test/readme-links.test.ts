/**
 * README.md is read from the package (npm, Construct Hub), where a relative
 * link resolves to nothing: every link is an anchor of the README itself, or
 * absolute. Links into this repository use the package's `repository` URL
 * and must name a file or folder the repository has.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { repository: { url: string } };
const REPOSITORY = pkg.repository.url.replace(/\.git$/, '');
const BLOB = `${REPOSITORY}/blob/main/`;
const TREE = `${REPOSITORY}/tree/main/`;

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Every link target of a Markdown text, outside code blocks, with its line. */
export function links(markdown: string): Array<{ line: number; target: string }> {
  const found: Array<{ line: number; target: string }> = [];
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*```/.test(text)) {
      fenced = !fenced;
      return;
    }
    if (fenced) {
      return;
    }
    for (const m of text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      found.push({ line: i + 1, target: m[1] });
    }
  });
  return found;
}

/** What is wrong with each link of `markdown`, as `line N: target: why`. */
export function brokenLinks(markdown: string, root: string): string[] {
  const headings = new Set<string>();
  let fenced = false;
  const seen = new Map<string, number>();
  for (const text of markdown.split('\n')) {
    fenced = /^\s*```/.test(text) ? !fenced : fenced;
    const h = !fenced && /^#{1,6} (.+)$/.exec(text);
    if (h) {
      const base = slug(h[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      headings.add(n === 0 ? base : `${base}-${n}`);
    }
  }
  return links(markdown).flatMap(({ line, target }) => {
    const why = problem(target);
    return why ? [`line ${line}: ${target}: ${why}`] : [];
  });

  function problem(target: string): string | undefined {
    if (target.startsWith('#')) {
      return headings.has(target.slice(1)) ? undefined : 'no heading has this anchor';
    }
    for (const base of [BLOB, TREE]) {
      if (target.startsWith(base)) {
        const file = decodeURIComponent(target.slice(base.length).split('#')[0]);
        return fs.existsSync(path.join(root, file)) ? undefined : `the repository has no ${file}`;
      }
    }
    if (/^https?:\/\//.test(target)) {
      return undefined;
    }
    return `a relative link resolves to nothing where the package's README is read; use ${BLOB}<path>`;
  }
}

test('every link of README.md resolves from the package: an anchor it has, or an absolute URL; the repository\'s files exist', () => {
  expect(brokenLinks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), ROOT)).toEqual([]);
});

test('the check catches a relative link, an anchor no heading has, and a repository file that does not exist', () => {
  const broken = [
    '# Title', '## Two words', '',
    'See [a](lab/README.md), [b](#two-words), [c](#nowhere),',
    `[d](${BLOB}lab/README.md), [e](${BLOB}no/such.md), [f](https://docs.aws.amazon.com/elasticloadbalancing/).`,
    '```ts', '// [g](not/a/link.md) in code is not a link', '```',
  ].join('\n');
  expect(brokenLinks(broken, ROOT)).toEqual([
    `line 4: lab/README.md: a relative link resolves to nothing where the package's README is read; use ${BLOB}<path>`,
    'line 4: #nowhere: no heading has this anchor',
    `line 5: ${BLOB}no/such.md: the repository has no no/such.md`,
  ]);
});
