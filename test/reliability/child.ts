/**
 * Runs a script in a child Node process (TypeScript through tsx) under a watchdog, so tests of
 * crashes, hangs and process exit cannot take the test runner down with them.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');

export interface ChildResult {
  /** Exit code, or null when killed by a signal (the watchdog's SIGKILL included). */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  /** The watchdog killed it. */
  timedOut: boolean;
}

/**
 * Runs `script` (CommonJS, may `require` the repository's .ts files by absolute path or relative to
 * the repository root) with `node --require tsx/cjs -e`, killing it after `watchdogMs`.
 */
export function runChild(script: string, options: { watchdogMs: number; env?: Record<string, string | undefined> }): ChildResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.watchdogMs,
    killSignal: 'SIGKILL',
  });
  const ms = performance.now() - t0;
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms, timedOut };
}

/** One line for assertion messages: how the child ended and the tail of its output. */
export function describeChild(r: ChildResult): string {
  const how = r.timedOut ? `killed by the watchdog after ${r.ms.toFixed(0)} ms` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  return `${how}\n--- stdout ---\n${r.stdout.slice(-2000)}\n--- stderr ---\n${r.stderr.slice(-2000)}`;
}
