/**
 * The engine-file fuzzer (test/runtime/engine-fuzz.test.ts): mutated, resealed engine files, and
 * a runner that loads and executes them in watched child processes (test/runtime/engine-fuzz-child.ts).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Json } from '../../src/runtime/plan-codec';
import { readEngineFile, writeEngineFile } from '../../src/runtime/engine-file';

const CHILD = path.join(__dirname, '..', 'runtime', 'engine-fuzz-child.ts');
const ROOT = path.resolve(__dirname, '..', '..');

/** A deterministic generator (LCG); the seed is in the test so failures reproduce. */
export function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % n;
}

type Leaf = { obj: Record<string, unknown> | unknown[]; key: string | number; path: string };

function leavesOf(v: unknown, p: string, out: Leaf[]): Leaf[] {
  if (!v || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) {
    const kp = Array.isArray(v) ? `${p}[${k}]` : `${p}.${k}`;
    if (x && typeof x === 'object') leavesOf(x, kp, out);
    else out.push({ obj: v as Record<string, unknown>, key: Array.isArray(v) ? Number(k) : k, path: kp });
  }
  return out;
}

/** Mutation targets by category (regular expressions over leaf paths of the manifest JSON). */
const CATEGORIES: [string, RegExp][] = [
  ['groups', /\.dispatches\[\d+\]\.groups\[\d\]$/],
  ['workgroup', /\.dispatches\[\d+\]\.workgroup\[\d\]$/],
  ['params', /\.dispatches\[\d+\]\.params\[\d+\]$/],
  ['bindings', /\.dispatches\[\d+\]\.bindings\[\d+\]\.\w+$/],
  ['slots', /^\.plan\.tensors\.entries\[\d+\]\[1\]\.(offset|bytes|kind|gpu)$/],
  ['sizes', /^\.plan\.(arenaBytes|weightBytes|scratchBytes|alignment)$|\.(kernelWeights|scratch)\[\d+\]\.(offset|bytes)$/],
  ['modules', /^\.shaders\[\d+\]\[\d+\]$/],
  ['source', /\.source\./],
  ['io', /^\.plan\.(inputs|outputs|outputRoots)/],
  ['any', /./],
];

function mutateValue(v: unknown, rnd: (n: number) => number, names: string[]): unknown {
  if (typeof v === 'number') {
    const choices = [-1, 0, 1, v + 1, v - 1, v * 2, v * 8, Math.floor(v / 2), 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 1e9, 0.5, -65536];
    return choices[rnd(choices.length)];
  }
  if (typeof v === 'string') return rnd(3) === 0 ? '' : names[rnd(names.length)];
  if (typeof v === 'boolean') return !v;
  return rnd(2) ? 0 : 'x';
}

export interface Fuzzed {
  file: string;
  what: string;
  untrusted: boolean;
  /** Edit the loaded engine after the checks so that it reads out of bounds (engine-fuzz-child.ts). */
  canary?: boolean;
}

/** Options of {@link makeFiles}. */
export interface FuzzOptions {
  /** Only SPIR-V edits (default: one file in eight). */
  spirvOnly?: boolean;
  /**
   * Load SPIR-V edits as untrusted (default true). In the default (trusted) mode the SPIR-V is
   * validated but its meaning is taken as it is: see docs/engine-file.md for what that allows.
   */
  spirvUntrusted?: boolean;
}

/**
 * Writes `count` mutated, resealed files of `bases` into `dir`. Manifest edits load in the
 * default mode, one in ten as untrusted.
 */
export function makeFiles(bases: { name: string; bytes: Uint8Array }[], count: number, dir: string, seed: number, options: FuzzOptions = {}): Fuzzed[] {
  const rnd = prng(seed);
  const out: Fuzzed[] = [];
  const parsed = bases.map((b) => ({ name: b.name, parts: readEngineFile(b.bytes), text: JSON.stringify(readEngineFile(b.bytes).manifest) }));
  for (let i = 0; i < count; i++) {
    const base = parsed[i % parsed.length];
    const manifest = JSON.parse(base.text) as Json;
    const spirv = base.parts.spirv.map((m) => m.slice());
    const leaves = leavesOf(manifest, '', []);
    const names = leaves.filter((l) => /\.bindings\[\d+\]\.tensor$/.test(l.path)).map((l) => String(l.obj[l.key as never]));
    let what: string;
    // one file in eight changes SPIR-V words; the others the manifest (1-3 edits of one category)
    const spirvEdit = options.spirvOnly || i % 8 === 7;
    if (spirvEdit) {
      const m = rnd(spirv.length);
      const w = spirv[m];
      const edits: string[] = [];
      // the literal words of 32-bit OpConstant instructions: edits there stay valid SPIR-V
      const literals: number[] = [];
      for (let at = 5; at < w.length && (w[at] >>> 16) > 0;) {
        if ((w[at] & 0xffff) === 43 && (w[at] >>> 16) === 4) literals.push(at + 3);
        at += w[at] >>> 16;
      }
      for (let k = 1 + rnd(3); k > 0; k--) {
        const kind = rnd(4);
        if (kind === 3 && literals.length) {
          const at = literals[rnd(literals.length)];
          const v = w[at];
          const choices = [v + 1, v * 2, v + 64, 0xffffffff, 1 << 20, 0];
          w[at] = choices[rnd(choices.length)] >>> 0;
          edits.push(`constant@${at}:${v}->${w[at]}`);
        } else {
          const at = 5 + rnd(w.length - 5);
          w[at] = kind === 0 ? w[at] ^ (1 << rnd(32)) : kind === 1 ? rnd(2 ** 24) * 256 + rnd(256) : rnd(16);
          edits.push(`${at}`);
        }
      }
      what = `spirv module ${m} words ${edits.join(',')}`;
    } else {
      const [cat, re] = CATEGORIES[rnd(CATEGORIES.length)];
      const pool = leaves.filter((l) => re.test(l.path));
      const edits: string[] = [];
      for (let k = 1 + rnd(3); k > 0 && pool.length; k--) {
        const leaf = pool[rnd(pool.length)];
        const before = (leaf.obj as Record<string, unknown>)[leaf.key as string];
        const after = mutateValue(before, rnd, names);
        (leaf.obj as Record<string, unknown>)[leaf.key as string] = after;
        edits.push(`${leaf.path}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
      }
      what = `${cat}: ${edits.join('; ')}`;
    }
    const file = path.join(dir, `${String(i).padStart(5, '0')}.engine`);
    fs.writeFileSync(file, writeEngineFile({ ...base.parts, manifest, spirv }));
    out.push({ file, what: `${base.name} ${what}`, untrusted: spirvEdit ? options.spirvUntrusted !== false : i % 10 === 3 });
  }
  return out;
}

export interface Outcome {
  i: number;
  outcome: 'refused' | 'ran' | 'error' | 'hang' | 'crash';
  reason?: string;
  message?: string;
  messages?: string[];
  ms?: number;
}

/** Runs the files in watched child processes; one outcome per file. */
export async function runWatched(files: Fuzzed[], env: NodeJS.ProcessEnv, timeoutMs: number, dir: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const jobFile = path.join(dir, `job-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(jobFile, JSON.stringify({ files: files.map((f) => f.file), start: 0, untrusted: files.map((f) => f.untrusted), canary: files.map((f) => !!f.canary) }));
  let start = 0;
  while (start < files.length) {
    const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
    job.start = start;
    fs.writeFileSync(jobFile, JSON.stringify(job));
    start = await new Promise<number>((resolve) => {
      const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', CHILD, jobFile], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let current = start, buf = '', stderr = '', settled = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          outcomes.push({ i: current, outcome: 'hang', message: files[current]?.what });
          child.kill('SIGKILL');
          resolve(current + 1);
        }, timeoutMs);
      };
      arm();
      child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
      child.stdout!.on('data', (d) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let msg: Record<string, unknown>;
          try { msg = JSON.parse(line); } catch { continue; }
          if (typeof msg.start === 'number') { current = msg.start; arm(); }
          else if (typeof msg.i === 'number') outcomes.push(msg as unknown as Outcome);
          else if (msg.fatal) stderr += String(msg.fatal);
        }
      });
      child.on('exit', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (settled) return;
        settled = true;
        const finished = outcomes.some((o) => o.i === current);
        if (code === 0 && finished && current >= files.length - 1) resolve(files.length);
        else if (finished) resolve(current + 1); // died between files (teardown): count nothing
        else {
          outcomes.push({ i: current, outcome: 'crash', message: `${files[current]?.what}: exit ${code} ${signal ?? ''} ${stderr.slice(-1500)}` });
          resolve(current + 1);
        }
      });
    });
  }
  return outcomes;
}

/** True for a validation message that reports an access outside a buffer (GPU-assisted validation). */
export function isOob(m: string): boolean {
  return /out of bounds|outside the bounds|OOB/i.test(m);
}

