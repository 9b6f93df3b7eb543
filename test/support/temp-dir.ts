/** A temporary directory for the enclosing describe block (or file), for tests that need files on disk. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface TempDir {
  /** The path a file of this name has in the directory, whether it exists or not. */
  path(name: string): string;
  /** Writes the content as given and returns the file's path. */
  writeFile(name: string, content: string | Buffer): string;
  /** Writes the value serialized as JSON and returns the file's path. */
  writeJson(name: string, content: unknown): string;
}

/**
 * Makes a fresh directory under the system's temporary one before the block's tests and removes
 * it, with everything in it, after them. `prefix` names the directory, to tell whose it is.
 */
export function useTempDir(prefix: string): TempDir {
  let directory: string | undefined;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });
  const path = (name: string): string => {
    if (directory === undefined) throw new Error('useTempDir: the directory is only there while the tests of its block run');
    return join(directory, name);
  };
  const writeFile = (name: string, content: string | Buffer): string => {
    const file = path(name);
    writeFileSync(file, content);
    return file;
  };
  return { path, writeFile, writeJson: (name, content) => writeFile(name, JSON.stringify(content)) };
}
