/**
 * Conformance backends other than the reference: 'vulkan' builds an engine per model (a staged
 * engine, src/api/staged.ts: one GPU stage unless the model has data-dependent shapes, or host
 * steps with `hostFallback`).
 */
import { InputError } from '../errors';
import { Device } from '../gpu/device';
import { Tensor } from '../ir/tensor';
import type { ConformanceBackend } from './run-case';
import { buildStagedEngine } from '../api/staged';

export async function createBackend(name: string, options: { hostFallback?: boolean } = {}): Promise<ConformanceBackend> {
  if (name !== 'vulkan') throw new InputError(`unknown backend '${name}' (use reference or vulkan)`);
  const device = Device.create({
    index: process.env.VKRT_DEVICE ? Number(process.env.VKRT_DEVICE) : undefined,
    validation: process.env.VKRT_VALIDATION === '1',
  });
  const paramMode = process.env.VKRT_PARAM_MODE === 'push' ? 'push' : 'spec';
  const hostFallback = !!options.hostFallback;
  let lastFallback = 0;
  return {
    name,
    async run(model, feeds) {
      const inputShapes: Record<string, number[]> = {};
      for (const [k, v] of feeds) {
        if (v instanceof Tensor) inputShapes[k] = [...v.dims];
        else if (!hostFallback) throw new InputError(`input '${k}' is a sequence or optional; the GPU engine takes tensors only`);
      }
      lastFallback = 0;
      const engine = buildStagedEngine(model, { device, inputShapes, paramMode, hostFallback });
      try {
        const out = await engine.execute(feeds);
        lastFallback = engine.fallbackNodes.length;
        const msgs = device.drainValidationMessages();
        if (msgs.length) throw new InputError(`Vulkan validation: ${msgs[0]}`);
        return out;
      } finally {
        engine.dispose();
      }
    },
    fallbackNodes: () => lastFallback,
    dispose() {
      device.dispose();
    },
  };
}
