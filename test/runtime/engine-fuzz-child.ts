/**
 * The child process of the engine-file fuzz test (engine-fuzz.test.ts): loads and executes engine
 * files one by one and reports each outcome as one JSON line on stdout, so that the parent can
 * watch every file with a timer (a hang) and notice the process dying (a crash).
 *
 * argv: a JSON file { files: string[], start: number, untrusted?: boolean[], canary?: boolean[] }.
 * A canary file is loaded (checked) and then its Gemm's K param is multiplied by 100 in memory,
 * after the checks: in push mode the program records the edited params, so the run reads out of
 * bounds, which proves that GPU-assisted validation reports such accesses here.
 * Validation is on unless VKRT_VALIDATION=0; GPU-assisted validation when the parent sets
 * VK_LAYER_ENABLES. Lines: {"start": i} before file i, then {"i", "outcome", ...}.
 */
import * as fs from 'fs';
import { EngineFileError } from '../../src/errors';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { Engine } from '../../src/runtime/engine';

interface Job {
  files: string[];
  start: number;
  untrusted?: boolean[];
  canary?: boolean[];
}

function inputsFor(engine: Engine): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const io of engine.inputs) {
    const n = io.dims.reduce((a, b) => a * b, 1);
    const vals = Array.from({ length: n }, (_, k) => (io.dtype.startsWith('float') ? ((k * 37) % 17) / 8 - 1 : k % 3));
    m.set(io.name, Tensor.from(io.dtype, io.dims, vals));
  }
  return m;
}

function emit(o: object): void {
  fs.writeSync(1, `${JSON.stringify(o)}\n`);
}

async function main(): Promise<void> {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Job;
  const validation = process.env.VKRT_VALIDATION !== '0';
  const plain = Device.create({ validation });
  let robust: Device | undefined;
  for (let i = job.start; i < job.files.length; i++) {
    emit({ start: i });
    const untrusted = !!job.untrusted?.[i];
    const device = untrusted ? (robust ??= Device.create({ validation, robustBufferAccess: true })) : plain;
    device.drainValidationMessages();
    const bytes = fs.readFileSync(job.files[i]);
    let engine: Engine;
    const t0 = performance.now();
    try {
      engine = Engine.deserialize(bytes, { device, untrusted });
    } catch (e) {
      const messages = device.drainValidationMessages();
      if (e instanceof EngineFileError) emit({ i, outcome: 'refused', reason: e.reason, message: e.message.slice(0, 300), messages, ms: performance.now() - t0 });
      else emit({ i, outcome: 'error', phase: 'load', message: `${(e as Error)?.name}: ${(e as Error)?.message}`.slice(0, 500), messages });
      continue;
    }
    try {
      if (job.canary?.[i]) {
        const d = engine.plan.layers.flatMap((l) => l.dispatches).find((x) => x.shader === 'nn/gemm');
        if (!d || engine.plan.paramMode !== 'push') throw new Error('the canary needs a push-mode engine with a Gemm');
        d.params[2] *= 100;
      }
      const ctx = engine.createExecutionContext();
      const out = await ctx.execute(inputsFor(engine));
      const finite = [...out.values()].every((t) => (t.data as ArrayLike<number>).length >= 0);
      ctx.dispose();
      const messages = device.drainValidationMessages();
      emit({ i, outcome: 'ran', finite, messages, ms: performance.now() - t0 });
    } catch (e) {
      emit({ i, outcome: 'error', phase: 'execute', message: `${(e as Error)?.name}: ${(e as Error)?.message}`.slice(0, 500), messages: device.drainValidationMessages() });
    } finally {
      engine.dispose();
    }
  }
  robust?.dispose();
  plain.dispose();
  emit({ done: true });
}

main().catch((e) => {
  emit({ fatal: `${(e as Error)?.stack ?? e}` });
  process.exit(3);
});
