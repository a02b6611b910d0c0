/**
 * Listing the local files a glob names (`data/*.csv.bz2`, `logs/2024-*\/*.jsonl.xz`, `shards/**`), in the
 * glob language of ./glob.ts, so a collection given as a glob names the same files on every shell (the CLI
 * expands quoted globs itself). Only the directory of the pattern's literal prefix is read, and deeper
 * directories only when a wildcard can cross a `/`. Names are matched as written (`./data/x` for
 * `./data/*`), regular files only (symlinks to them too; dangling
 * symlinks are kept so opening them reports them), names starting with `.` only when the pattern spells a
 * leading `.` (shell habit), sorted by `compareNames`.
 */
import { readdir, stat } from 'node:fs/promises';
import { SeekdataError } from '../errors.js';
import { compareNames, globCrossesSlash, globMatcher, globPrefix } from './glob.js';

/** Directories walked at most, so that `/**` on a huge tree fails clearly instead of running for hours. */
const MAX_DIRECTORIES = 100_000;

export async function listLocal(pattern: string, keep: (name: string) => boolean = () => true): Promise<string[]> {
  const matches = globMatcher(pattern);
  const prefix = globPrefix(pattern);
  const cut = prefix.lastIndexOf('/');
  const root = cut < 0 ? '' : cut === 0 ? '/' : prefix.slice(0, cut);
  const deep = globCrossesSlash(pattern);
  // Like a shell, wildcards do not match names starting with `.` unless the pattern spells such a name.
  const dotted = pattern.split('/').some((seg) => seg.startsWith('.') && seg !== '.' && seg !== '..');
  const found: string[] = [];
  let walked = 0;
  const walk = async (dir: string): Promise<void> => {
    if (++walked > MAX_DIRECTORIES) throw new SeekdataError('INVALID_OPTION', `glob ${JSON.stringify(pattern)} walks more than ${MAX_DIRECTORIES} directories: give a narrower pattern`);
    let entries;
    try {
      entries = await readdir(dir === '' ? '.' : dir, { withFileTypes: true });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      // The pattern's directory missing is "no match"; an unreadable one is an error.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw new SeekdataError('IO_ERROR', `${dir === '' ? '.' : dir}: cannot list the directory for glob ${JSON.stringify(pattern)} (${code ?? String(cause)})`, { file: dir, cause });
    }
    for (const entry of entries) {
      const path = dir === '' ? entry.name : dir.endsWith('/') ? `${dir}${entry.name}` : `${dir}/${entry.name}`;
      if (entry.name.startsWith('.') && !dotted) continue;
      let isFile = entry.isFile();
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        // A dangling link is kept: opening it reports it (NOT_FOUND naming it), never a silent drop.
        isFile = target === undefined || target.isFile();
        // Symlinked directories are not followed (no loops).
        isDir = false;
      }
      if (isFile && matches(path) && keep(path)) found.push(path);
      else if (isDir && deep) await walk(path);
    }
  };
  await walk(root);
  return found.sort(compareNames);
}
