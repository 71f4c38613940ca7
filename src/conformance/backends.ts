/** Conformance backends other than the reference: 'vulkan' builds an engine per model. */
import { InputError } from '../errors';
import { Device } from '../gpu/device';
import { Tensor } from '../ir/tensor';
import type { RuntimeValue } from '../ops/types';
import type { ConformanceBackend } from './run-case';
import { buildEngine } from '../api/build';

export async function createBackend(name: string): Promise<ConformanceBackend> {
  if (name !== 'vulkan') throw new InputError(`unknown backend '${name}' (use reference or vulkan)`);
  const device = Device.create({
    index: process.env.VKRT_DEVICE ? Number(process.env.VKRT_DEVICE) : undefined,
    validation: process.env.VKRT_VALIDATION === '1',
  });
  const paramMode = process.env.VKRT_PARAM_MODE === 'push' ? 'push' : 'spec';
  return {
    name,
    async run(model, feeds) {
      const inputShapes: Record<string, number[]> = {};
      const tensors = new Map<string, Tensor>();
      for (const [k, v] of feeds) {
        if (!(v instanceof Tensor)) throw new InputError(`input '${k}' is a sequence or optional; the GPU engine takes tensors only`);
        inputShapes[k] = [...v.dims];
        tensors.set(k, v);
      }
      const engine = buildEngine(model, { device, inputShapes, paramMode });
      try {
        const ctx = engine.createExecutionContext();
        const out = await ctx.execute(tensors);
        const msgs = device.drainValidationMessages();
        if (msgs.length) throw new InputError(`Vulkan validation: ${msgs[0]}`);
        return out as Map<string, RuntimeValue>;
      } finally {
        engine.dispose();
      }
    },
    dispose() {
      device.dispose();
    },
  };
}
