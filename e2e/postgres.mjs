// A throwaway PostgreSQL cluster for the end-to-end tests, made from the
// machine's own PostgreSQL (Debian's `postgresql`, which `cargo xtask test`
// installs), as the server's own tests make theirs: listening on a socket in
// a folder of its own and nowhere else, run as the `postgres` user when the
// tests run as root (PostgreSQL refuses root), stopped after the test. A
// machine with no PostgreSQL fails the test rather than skipping it.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stopAfterTest } from './helpers.mjs';

/** The cluster's superuser, made by `initdb`. */
const USER = 'beatbook';

/** The folder of PostgreSQL's programs: `BEATBOOK_POSTGRES_BIN`, or the newest of Debian's. */
function binaries() {
  if (process.env.BEATBOOK_POSTGRES_BIN) return process.env.BEATBOOK_POSTGRES_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => a - b)
    : [];
  if (!versions.length) {
    throw new Error('PostgreSQL is not installed (Debian\'s postgresql package; cargo xtask test installs it)');
  }
  return join(root, versions.at(-1), 'bin');
}

/** The user to run PostgreSQL as: ours, or `postgres` when we are root. */
function runAs() {
  if (process.getuid() !== 0) return {};
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts a cluster with one empty database; resolves to its connection
 * string (`host=SOCKET-FOLDER user=… dbname=…`, as `--database` takes it).
 */
export async function startPostgres() {
  const bin = binaries();
  const user = runAs();
  const dir = await mkdtemp(join(tmpdir(), 'beatbook-e2e-pg-'));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '-U', USER, '-D', data],
    { ...user, stdio: 'pipe' });
  const proc = spawn(join(bin, 'postgres'), ['-D', data, '-k', dir, '-c', 'listen_addresses='],
    { ...user, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (chunk) => { log += chunk; });
  const ready = () => {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-q', '-h', dir, '-U', USER]);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 30_000;
  while (!ready()) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`PostgreSQL did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  execFileSync(join(bin, 'createdb'), ['-h', dir, '-U', USER, 'beatbook'], { stdio: 'pipe' });
  return stopAfterTest({
    url: `host=${dir} user=${USER} dbname=beatbook`,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        // A fast shutdown: its sessions are ended, and it is gone in a moment.
        proc.kill('SIGINT');
        await once(proc, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
