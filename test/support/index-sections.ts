/** Every section of an index file as seekdata's reader hands them out (checksums verified). Not a test file. */
import type { SectionValue } from '../../src/index/index-file.js';
import { openIndexFile } from '../../src/index/index-reader.js';

/** The sections of the index file at `path`, in file order. */
export async function loadAllSections(path: string): Promise<Map<string, SectionValue>> {
  const opening = await openIndexFile(path);
  if (opening.kind !== 'index') throw new Error(`${path}: ${opening.kind}`);
  try {
    const names = opening.file.names();
    const loaded = await opening.file.load(names);
    return new Map(names.map((n) => [n, loaded.get(n) as SectionValue]));
  } finally {
    await opening.file.close();
  }
}
