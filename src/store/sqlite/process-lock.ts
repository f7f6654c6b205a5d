// SQLite runs one gateway process per database file (CONTRACT §9). The lock is an exclusive transaction on a small
// SQLite file beside the database, held for the process's life: the operating system releases it when the process
// ends however it ends (a SIGKILL included), so a restart never waits and two starts can never both take it. The
// database itself stays open to other processes (the token CLI). The holder's pid is written beside the lock for the
// refusal's message.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DatabaseInUseError } from '../store.ts';

function holderOf(pidFile: string): string {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    return /^\d+$/.test(pid) ? ` (pid ${pid})` : '';
  } catch {
    return '';
  }
}

/** Takes the lock of `databaseFile` for this process; returns its release. Throws DatabaseInUseError when a live gateway holds it. */
export function lockDatabaseFile(databaseFile: string): () => void {
  const lockFile = `${databaseFile}.gateway-lock`;
  const pidFile = `${lockFile}.pid`;
  // No busy timeout: a held lock is an answer, not something to wait for.
  const lock = new Database(lockFile, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new DatabaseInUseError(
      `another gateway${holderOf(pidFile)} is running on ${databaseFile}: SQLite serves one gateway process; for several replicas use PostgreSQL (DATABASE_URL=postgres://…) with REDIS_URL`,
    );
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return () => {
    rmSync(pidFile, { force: true });
    lock.close();
  };
}
