/**
 * The directions ARCHITECTURE.md gives the folders' imports, checked on the
 * code: each folder may import only the folders listed for it, so a new
 * arrow the wrong way fails here and in review, not months later in a
 * bundle that pulls aws-cdk-lib into a Lambda function.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

/**
 * What each part may import besides itself. `lib/contract` is the meeting
 * point of the constructs and the code that runs on AWS (lambda/, sample-app/),
 * so it imports nothing of the project's: not even the rest of lib/.
 */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'lib/contract': [],
  'lib': ['lib/contract'],
  'lambda': ['lib/contract'],
  // The status command reads the shifter's records with the shifter's own parsers.
  'cli': ['lib/contract', 'lambda'],
  'sample-app': ['lib/contract'],
  'bin': ['lib', 'lib/contract'],
  'scripts': ['lib'],
  'local': ['lib/contract', 'sample-app'],
  'lab': ['lib', 'lib/contract', 'lambda', 'local', 'sample-app'],
  'bench': ['lib', 'lib/contract', 'local', 'sample-app'],
  // Tests reach into everything, aws-cdk-lib's own bundled packages included (the registry schemas' validator).
  'test': ['lib', 'lib/contract', 'lambda', 'cli', 'sample-app', 'bin', 'local', 'lab', 'scripts', 'node_modules'],
};

/** The part a path belongs to: its top folder, with lib/contract apart from lib. */
function partOf(relative: string): string {
  const [top, second] = relative.split(path.sep);
  return top === 'lib' && second === 'contract' ? 'lib/contract' : top;
}

/** The relative module specifiers a TypeScript file imports, exports from or requires, outside comments and template strings. */
export function importsOf(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/`(?:\\[\s\S]|[^\\`])*`/g, '``');
  return [...code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]);
}

/** Every .ts file of a part, but generated ones and fixtures. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
    .filter((f) => !/(^|\/)(node_modules|fixtures|cdk\.out)\//.test(f) && !f.includes('.snapshot/'));
}

/** The imports that break {@link ALLOWED}, as `file -> imported file`. */
export function wrongWay(files: readonly string[], read: (file: string) => string): string[] {
  return files.flatMap((file) => importsOf(read(file)).flatMap((spec) => {
    const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec));
    const from = partOf(file);
    const to = partOf(target);
    return to === from || ALLOWED[from]?.includes(to) ? [] : [`${file} -> ${target}`];
  }));
}

test('every import follows the directions ARCHITECTURE.md gives', () => {
  const files = Object.keys(ALLOWED).filter((part) => part !== 'lib/contract').flatMap(sources);
  expect(files.length).toBeGreaterThan(100);
  expect(wrongWay(files, (f) => fs.readFileSync(path.join(ROOT, f), 'utf8'))).toEqual([]);
});

test('lib/contract imports no library of its own either: it is bundled into Lambda functions and the app', () => {
  const bad = sources('lib/contract').flatMap((file) => [...fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/from '([^.][^']*)'/g)]
    .map((m) => `${file} -> ${m[1]}`));
  expect(bad).toEqual([]);
});

test('the check catches an import the wrong way, and not one in a comment or a template string', () => {
  const quote = (spec: string) => `'${spec}'`;
  const files = {
    'lib/contract/x.ts': `import { AppFleet } from ${quote('../app-fleet')};`,
    'lambda/y.ts': `// from ${quote('../lib/app-fleet')}\nconst t = \`import ${quote('../lib/x')}\`;`,
  };
  expect(wrongWay(Object.keys(files), (f) => files[f as keyof typeof files])).toEqual(['lib/contract/x.ts -> lib/app-fleet']);
});
