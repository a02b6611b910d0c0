/**
 * What is at a path where an index is about to be written, so that nothing is overwritten that is not this
 * data's to replace: nothing (create it), an empty file or a damaged index (nobody's: replace it, as a
 * damaged index is rebuilt), an index whose metadata names its owner (replace it only when it is this
 * data's), a file that is not an index (never replaced), or something unusable (a directory, a FIFO).
 */
import { open, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { INDEX_MAGIC } from './index-file.js';
import { openIndexFile } from './index-reader.js';
import { readLegacyMeta } from './legacy-index.js';
import type { RecordedSource } from './ownership.js';
import { parseMeta } from './store.js';

export type PlaceState =
  | { kind: 'missing' }
  | { kind: 'empty' }
  | { kind: 'not-index' }
  | { kind: 'damaged' }
  | { kind: 'index'; recorded: RecordedSource }
  | { kind: 'unusable'; reason: string };

async function startsWithMagic(path: string): Promise<boolean | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const head = new Uint8Array(INDEX_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && Buffer.from(head).toString('latin1') === INDEX_MAGIC;
  } finally {
    await handle.close();
  }
}

/** What is at `path` (following symlinks), read without trusting it. */
export async function inspectPlace(path: string): Promise<PlaceState> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return { kind: 'unusable', reason: `${path} is not a regular file` };
    if (s.size === 0) return { kind: 'empty' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unusable', reason: `${path} cannot be read (${code ?? String(error)})` };
  }
  const magic = await startsWithMagic(path);
  if (magic === undefined) return { kind: 'unusable', reason: `${path} cannot be read` };
  if (!magic) return { kind: 'not-index' };
  const opening = await openIndexFile(path);
  switch (opening.kind) {
    case 'missing':
      return { kind: 'missing' };
    case 'unusable':
      return { kind: 'unusable', reason: opening.reason };
    case 'corrupt':
      return { kind: 'damaged' };
    case 'old-version':
      try {
        return { kind: 'index', recorded: parseMeta(await readLegacyMeta(opening.handle, opening.size, path), path, true) };
      } catch {
        return { kind: 'damaged' };
      } finally {
        await opening.handle.close().catch(() => undefined);
      }
    case 'index':
      try {
        const json = (await opening.file.load(['meta'])).get('meta');
        if (json === undefined || !('json' in json)) return { kind: 'damaged' };
        return { kind: 'index', recorded: parseMeta(json.json, path) };
      } catch {
        return { kind: 'damaged' };
      } finally {
        await opening.file.close();
      }
  }
}
