/**
 * The conformance runner: runs ONNX backend test folders on a backend in worker threads (so a test
 * that hangs or exhausts memory is killed after a timeout and counted, not fatal), compares with
 * ONNX's tolerance, applies the known-failure and tolerance policy files, and summarizes per op.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { InputError } from '../errors';
import { listTestDirs } from './cases';
import { ONNX_TOLERANCE, Tolerance } from './compare';
import type { CaseResult } from './run-case';

export interface Policy {
  /** test name -> reason it is expected to fail on this backend. */
  knownFailures: Map<string, string>;
  /** test name -> tolerance override (with its reason). */
  tolerances: Map<string, Tolerance & { reason: string }>;
}

export interface RunOptions {
  backend: string;
  filter?: RegExp;
  workers?: number;
  /** Per-test time limit in ms (default 120 s). */
  timeoutMs?: number;
  policy?: Policy;
  /**
   * Let the backend run nodes the GPU cannot run on the CPU reference (vulkan: host fallback).
   * Passes that needed it are counted apart (Summary.fallbackPassed) and never count as a known
   * failure that now passes.
   */
  hostFallback?: boolean;
  onResult?(r: FinalResult): void;
}

export type FinalStatus = 'pass' | 'fail' | 'skip';

export interface FinalResult extends CaseResult {
  final: FinalStatus;
  /** For skips: the reason from the known-failures file. */
  reason?: string;
}

export interface Summary {
  backend: string;
  passed: number;
  /** Of `passed`: tests that ran some node on the host (host fallback); the rest ran every node on the GPU. */
  fallbackPassed: number;
  failed: number;
  skipped: number;
  total: number;
  /** Known failures that passed (the policy file should drop them). */
  unexpectedPasses: string[];
  results: FinalResult[];
  perOp: Map<string, { passed: number; failed: number; skipped: number }>;
}

/**
 * Read the policy: a JSON file, or a folder of them (merged), each
 * { "knownFailures": { backend: { test: reason } }, "tolerances": { test: {rtol, atol, reason} } }.
 */
export function loadPolicy(file: string | undefined, backend: string): Policy {
  const policy: Policy = { knownFailures: new Map(), tolerances: new Map() };
  if (!file || !fs.existsSync(file)) return policy;
  const files = fs.statSync(file).isDirectory()
    ? fs.readdirSync(file).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(file, f))
    : [file];
  for (const f of files) mergePolicy(policy, f, backend);
  return policy;
}

function mergePolicy(policy: Policy, file: string, backend: string): void {
  let j: { knownFailures?: Record<string, Record<string, string>>; tolerances?: Record<string, Tolerance & { reason: string }> };
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  for (const [name, reason] of Object.entries(j.knownFailures?.[backend] ?? {})) policy.knownFailures.set(name, reason);
  for (const [name, t] of Object.entries(j.tolerances ?? {})) {
    if (!t.reason) throw new InputError(`${file}: tolerance override for ${name} has no reason`);
    policy.tolerances.set(name, t);
  }
}

function workerSource(): { file: string; eval: boolean } {
  const here = __filename;
  if (here.endsWith('.ts')) {
    const w = path.join(path.dirname(here), 'worker.ts');
    return { file: `require('tsx/cjs'); require(${JSON.stringify(w)});`, eval: true };
  }
  return { file: path.join(path.dirname(here), 'worker.js'), eval: false };
}

export async function runConformance(roots: string[], opts: RunOptions): Promise<Summary> {
  const policy = opts.policy ?? { knownFailures: new Map(), tolerances: new Map() };
  let dirs = roots.flatMap((r) => listTestDirs(r));
  if (opts.filter) dirs = dirs.filter((d) => opts.filter!.test(path.basename(d)));
  const nWorkers = Math.max(1, Math.min(opts.workers ?? Math.min(os.cpus().length, 4), dirs.length));
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const results: FinalResult[] = new Array(dirs.length);
  const src = workerSource();
  let next = 0;

  const finalize = (r: CaseResult): FinalResult => {
    const reason = policy.knownFailures.get(r.name);
    if (r.status === 'pass') return { ...r, final: 'pass' };
    if (reason !== undefined) return { ...r, final: 'skip', reason };
    return { ...r, final: 'fail' };
  };

  const lane = async () => {
    let worker: Worker | undefined;
    const spawn = () => new Worker(src.file, { eval: src.eval, workerData: { backend: opts.backend, hostFallback: !!opts.hostFallback } });
    try {
      while (next < dirs.length) {
        const i = next++;
        const dir = dirs[i];
        const name = path.basename(dir);
        worker ??= spawn();
        const w = worker;
        const tol = policy.tolerances.get(name) ?? ONNX_TOLERANCE;
        const r = await new Promise<CaseResult>((resolve) => {
          const timer = setTimeout(() => {
            cleanup();
            void w.terminate();
            worker = undefined;
            resolve({ name, status: 'error', message: `timed out after ${timeoutMs} ms`, code: 'TIMEOUT', ops: [], ms: timeoutMs });
          }, timeoutMs);
          const onMsg = (m: CaseResult) => { cleanup(); resolve(m); };
          const onErr = (e: Error) => {
            cleanup();
            worker = undefined;
            resolve({ name, status: 'error', message: `worker died: ${e.message}`, code: 'CRASH', ops: [], ms: 0 });
          };
          const onExit = (c: number) => onErr(new Error(`exit code ${c}`));
          const cleanup = () => { clearTimeout(timer); w.off('message', onMsg); w.off('error', onErr); w.off('exit', onExit); };
          w.on('message', onMsg);
          w.on('error', onErr);
          w.on('exit', onExit);
          w.postMessage({ dir, tol });
        });
        results[i] = finalize(r);
        opts.onResult?.(results[i]);
      }
    } finally {
      if (worker) await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: nWorkers }, lane));

  const perOp = new Map<string, { passed: number; failed: number; skipped: number }>();
  for (const r of results) {
    for (const op of r.ops.length ? r.ops : ['(unparsed)']) {
      let e = perOp.get(op);
      if (!e) perOp.set(op, (e = { passed: 0, failed: 0, skipped: 0 }));
      if (r.final === 'pass') e.passed++; else if (r.final === 'fail') e.failed++; else e.skipped++;
    }
  }
  const count = (s: FinalStatus) => results.filter((r) => r.final === s).length;
  return {
    backend: opts.backend,
    passed: count('pass'),
    fallbackPassed: results.filter((r) => r.final === 'pass' && r.fallback).length,
    failed: count('fail'),
    skipped: count('skip'),
    total: results.length,
    unexpectedPasses: results.filter((r) => r.final === 'pass' && !r.fallback && policy.knownFailures.has(r.name)).map((r) => r.name),
    results,
    perOp,
  };
}
