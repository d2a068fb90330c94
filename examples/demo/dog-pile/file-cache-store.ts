/**
 * A `CacheStore` in a directory, shared by every process on this machine: one JSON file per key
 * (named by its hash) holding the value and its expiry. A write goes to a temporary file that is
 * then renamed over the old one, so a reader sees the old value or the new one, never half.
 * The demo uses it with the embedded server, where there is no Redis to cache in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStore } from '../../../src/index.js';

interface Entry {
  readonly value: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export function fileCacheStore(dir: string): CacheStore {
  const path = (key: string): string => join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  return {
    async get(key) {
      let entry: Entry;
      try {
        entry = JSON.parse(await readFile(path(key), 'utf8')) as Entry;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      if (Date.now() < entry.expiresAt) return entry.value;
      await rm(path(key), { force: true });
      return undefined;
    },
    async set(key, value, ttl) {
      const entry: Entry = { value, expiresAt: Date.now() + ttl };
      const temporary = `${path(key)}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temporary, JSON.stringify(entry));
      await rename(temporary, path(key));
    },
  };
}
