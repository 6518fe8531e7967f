/**
 * The README's first example also appears in Python, and the Python block is
 * what jsii-rosetta makes of the TypeScript block above it: rosetta compiles
 * the example against the jsii assembly (.jsii, written by `npm run jsii`,
 * which `npm test` runs before jest), with rosetta/default.ts-fixture, and
 * translates it. Only that snippet is translated (`--include` its key), so
 * the test stays short.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TranslatedSnippet, typeScriptSnippetFromVisibleSource } from 'jsii-rosetta';
import { copyOfBuiltPackage } from './helpers/assembly';

const ROOT = path.join(__dirname, '..');

/** The first fenced block of `language` at or after line index `from`: its code and the index of its opening fence. */
function block(lines: string[], language: string, from = 0): { fence: number; end: number; code: string } {
  const fence = lines.findIndex((l, i) => i >= from && l.trim() === '```' + language);
  if (fence < 0) throw new Error(`README.md has no \`\`\`${language} block after line ${from + 1}`);
  let end = fence + 1;
  while (end < lines.length && lines[end].trim() !== '```') end++;
  return { fence, end, code: lines.slice(fence + 1, end).join('\n') };
}

const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
const typescript = block(lines, 'ts');

let translation: { didCompile?: boolean; python?: string };

beforeAll(() => {
  const built = copyOfBuiltPackage();
  const assembly = JSON.parse(fs.readFileSync(path.join(built, '.jsii'), 'utf8')) as { readme?: { markdown: string } };
  if (!assembly.readme?.markdown.includes(typescript.code)) throw new Error('.jsii carries another README: run `npm run jsii` (npm test runs it before jest)');
  // rosetta's key for a README snippet: its API location and its visible source.
  const key = TranslatedSnippet.fromTypeScript(typeScriptSnippetFromVisibleSource(
    typescript.code, { api: { api: 'moduleReadme', moduleFqn: 'cdk-session-tier' }, field: { field: 'markdown', line: typescript.fence + 1 } }, true,
  )).key;
  try {
    const tablet = path.join(built, 'tablet.json');
    const rosetta = path.join(ROOT, 'node_modules', 'jsii-rosetta', 'bin', 'jsii-rosetta');
    const run = spawnSync(process.execPath, [rosetta, 'extract', '--compile', '--include', key, '--cache-to', tablet, '.jsii'], { cwd: built, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`jsii-rosetta failed: ${run.stderr}`);
    const snippet = (JSON.parse(fs.readFileSync(tablet, 'utf8')) as { snippets: Record<string, { didCompile?: boolean; translations: Record<string, { source: string }> }> }).snippets[key];
    translation = { didCompile: snippet?.didCompile, python: snippet?.translations.python?.source };
  } finally {
    fs.rmSync(built, { recursive: true, force: true });
  }
}, 180_000);

test('rosetta compiles the first example against the assembly', () => {
  expect(translation.didCompile).toBe(true);
});

test('the README\'s Python block, right after the first example, is rosetta\'s translation of it', () => {
  const python = block(lines, 'python', typescript.end);
  expect(lines.slice(typescript.end + 1, python.fence).every((l) => !l.startsWith('```'))).toBe(true);
  expect(python.code.trim()).toBe(translation.python?.trim());
});

test('the Python block is valid Python', () => {
  const python = block(lines, 'python', typescript.end);
  const parse = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: python.code, encoding: 'utf8' });
  expect(parse.stderr).toBe('');
  expect(parse.status).toBe(0);
});
