// SQLite runs one gateway process per database file (CONTRACT §9): a lock file beside the database names the
// process that holds it. A lock whose process is gone (killed, crashed) is stale and taken over at once, so a restart
// after a crash never waits; one whose process lives refuses the start.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { DatabaseInUseError } from '../store.ts';

interface LockHolder {
  pid: number;
  host: string;
}

function isAlive(holder: LockHolder): boolean {
  // A lock written on another host (a shared disk) cannot be checked from here: it counts as alive.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(lockFile: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(lockFile, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? { pid: parsed.pid, host: parsed.host } : null;
  } catch {
    return null; // gone meanwhile, or cut short by a crash while it was written
  }
}

/** Takes the lock of `databaseFile` for this process; returns its release. Throws DatabaseInUseError when a live gateway holds it. */
export function lockDatabaseFile(databaseFile: string): () => void {
  const lockFile = `${databaseFile}.gateway-lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockFile, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(lockFile);
      if (holder && isAlive(holder) && holder.pid !== process.pid) {
        throw new DatabaseInUseError(
          `another gateway (pid ${holder.pid}) is running on ${databaseFile}: SQLite serves one gateway process; for several replicas use PostgreSQL (DATABASE_URL=postgres://…) with REDIS_URL`,
        );
      }
      unlinkSync(lockFile); // stale: its process is gone
      continue;
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname() }));
    closeSync(fd);
    return () => {
      if (readHolder(lockFile)?.pid === process.pid) unlinkSync(lockFile);
    };
  }
  throw new DatabaseInUseError(`could not take the lock of ${databaseFile}: other processes keep taking it`);
}
