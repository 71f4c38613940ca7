/**
 * `vkrt exec` on a staged engine (src/api/staged.ts): a model with data-dependent shapes (NonZero,
 * Compress), `--hostFallback`, or a staged engine file from `--saveEngine`. Builds (or loads),
 * prints the stages and every host fallback node, runs `--iterations` times, reports the first run
 * (which builds the later stages) apart from the others, and the outputs.
 */
import * as fs from 'fs';
import { StagedEngine, buildStagedEngine } from '../api/staged';
import { InputError } from '../errors';
import type { Device } from '../gpu/device';
import type { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import type { EngineIO } from '../kernel/plan';
import type { RuntimeValue } from '../ops/types';
import type { BuilderConfig } from '../builder/config';
import { loadInputs, randomInputs } from './inputs';

export interface StagedExecOptions {
  /** Build from this model, or load `bytes` (a staged engine file). */
  model?: Model;
  bytes?: Uint8Array;
  file: string;
  device: Device;
  config: BuilderConfig;
  shapes: Record<string, number[]>;
  loadInputs?: string;
  iterations: number;
  save?: string;
  verbose: boolean;
  exportOutputs?(outputs: Map<string, Tensor>): void;
}

/** The model's inputs as the run fills them: dtype and dims from --shapes or the model. */
function declaredInputs(model: Model, shapes: Record<string, number[]>): EngineIO[] {
  const g = model.graph;
  return g.inputs.filter((i) => !g.initializers.has(i)).map((name) => {
    const t = g.types.get(name);
    if (t?.kind && t.kind !== 'tensor') throw new InputError(`input '${name}' is a ${t.kind}: give it in code (StagedEngine.execute); exec fills tensors only`);
    const dims = shapes[name] ?? (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1));
    if (dims.some((d) => d < 0) && !shapes[name]) throw new InputError(`input '${name}' has dynamic dimensions: give its shape with --shapes=${name}:AxB...`);
    return { name, dtype: t?.dtype ?? 'float32', dims, gpu: 'f32' as const };
  });
}

export async function runStagedExec(o: StagedExecOptions): Promise<number> {
  const log = (l: string) => { if (o.verbose || l.startsWith('host fallback') || l.startsWith('staged')) console.log(`[${o.verbose ? 'V' : 'I'}] [build] ${l}`); };
  const t0 = performance.now();
  const se = o.bytes
    ? StagedEngine.deserialize(o.bytes, { device: o.device, file: o.file, log })
    : buildStagedEngine(o.model!, { ...o.config, device: o.device, inputShapes: o.shapes, log });
  try {
    const model = o.bytes ? se.sourceModel : o.model!;
    console.log(`[I] Staged engine ${o.bytes ? `loaded from ${o.file} (${o.bytes.byteLength} bytes, ${se.builtEngines} GPU stage engine(s))` : 'built'} in ${(performance.now() - t0).toFixed(1)} ms on ${o.device.info.name}`);
    const declared = declaredInputs(model, o.shapes);
    const inputs = new Map<string, RuntimeValue>(o.loadInputs ? loadInputs(o.loadInputs, declared) : randomInputs(declared));
    const t1 = performance.now();
    let outputs = await se.execute(inputs);
    const firstMs = performance.now() - t1;
    // the structure after the first run (host fallback finds the nodes it takes while building the stages)
    for (const line of se.describe()) console.log(`[I] ${line}`);
    const times: number[] = [];
    for (let k = 0; k < o.iterations; k++) {
      const t = performance.now();
      outputs = await se.execute(inputs);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
    console.log(`[I] First run ${firstMs.toFixed(2)} ms (builds the stages it meets); ${times.length} more: mean ${mean.toFixed(3)} ms, median ${(times[times.length >> 1] ?? 0).toFixed(3)} ms (wall time, read-back and host steps included)`);
    if (o.save) {
      const bytes = se.serialize();
      try {
        fs.writeFileSync(o.save, bytes);
      } catch (e) {
        throw new InputError(`--saveEngine: cannot write ${o.save} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      console.log(`[I] Staged engine saved to ${o.save} (${bytes.length} bytes: the stage structure, the source model and ${se.builtEngines} GPU stage engine(s))`);
    }
    const tensors = new Map<string, Tensor>();
    for (const [name, v] of outputs) {
      if (!(v instanceof Tensor)) { console.log(`[I] Output ${name}: ${v === null ? 'empty optional' : `sequence of ${v.length} tensor(s)`}`); continue; }
      tensors.set(name, v);
      const d = v.dtype === 'string' ? [] : Array.from(v.toNumbers());
      const head = d.slice(0, 6).map((x) => +x.toPrecision(6)).join(', ');
      console.log(`[I] Output ${name}: ${v.dtype}[${v.dims.join('x')}] ${head}${d.length > 6 ? ', ...' : ''}`);
    }
    o.exportOutputs?.(tensors);
    return 0;
  } finally {
    se.dispose();
  }
}
