/**
 * Pipelines for a plan's dispatches from its SPIR-V table: the workgroup size and (in 'spec' mode)
 * the params become specialization constants, keeping only the ids the module declares (the
 * compiler drops constants a shader never reads, and native/spirv.cpp is what reads the module).
 * Dispatches with the same module and constants share one pipeline (within an engine, across the
 * plans of its optimization profiles' shapes too).
 *
 * For a plan loaded from a file, every module first goes through SPIRV-Tools' validator
 * (native/spirv_validate.cpp), and the workgroup size the module runs with (its LocalSize, or the
 * specialization constants its WorkgroupSize is made of, as specialized here) must be the
 * dispatch's, which plan-check.ts bounded by the device's limits.
 */
import { EngineFileError, VkrtError, VulkanError } from '../errors';
import { Device } from '../gpu/device';
import { dispatchSpecialization, type Pipeline, type PipelineDesc } from '../gpu/pipeline';
import type { SpirvValidation } from '../native';
import type { EnginePlan, ShaderTable } from '../kernel/plan';

/** Vulkan results that say the device ran out of something or was lost, not that the module is bad. */
const RESOURCE_RESULTS = new Set([
  'VK_ERROR_OUT_OF_HOST_MEMORY', 'VK_ERROR_OUT_OF_DEVICE_MEMORY', 'VK_ERROR_DEVICE_LOST', 'VK_ERROR_OUT_OF_POOL_MEMORY',
  'VK_ERROR_FRAGMENTED_POOL', 'VK_ERROR_FRAGMENTATION', 'VK_ERROR_TOO_MANY_OBJECTS',
]);

/**
 * A driver that refuses to make a pipeline from a file's module (VK_ERROR_UNKNOWN,
 * VK_ERROR_INVALID_SHADER_NV, ...) was given a damaged module: the file is corrupt. Running out of
 * memory or losing the device stays a VulkanError.
 */
function refusedModule(e: VulkanError): boolean {
  return !!e.result && !RESOURCE_RESULTS.has(e.result);
}

/**
 * One pipeline per dispatch, in plan order. On failure every pipeline made so far is disposed.
 * @param file names the engine file when the plan was loaded from one: a module that disagrees
 *   with its dispatch, or that the driver refuses, is then a damaged file (EngineFileError
 *   'corrupt'), not a bad call.
 */
export function createPipelines(device: Device, plan: EnginePlan, shaders: ShaderTable, file?: { name?: string }, shared?: Map<string, Pipeline>): Pipeline[][] {
  const steps = createPipelineSteps(device, plan, shaders, file, shared);
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    let p: Pipeline;
    try {
      p = device.createPipeline(r.value.desc);
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    r = steps.next(p);
  }
}

/** One pipeline a plan needs: its description and the layer it is for. */
export interface PipelineRequest {
  desc: PipelineDesc;
  layer: number;
}

/**
 * {@link createPipelines} one pipeline at a time: the generator yields a request for each distinct
 * pipeline and takes the created Pipeline back through next() (so the caller may create it
 * asynchronously, Device.createPipelineAsync, and let the event loop run); a creation error goes
 * in through throw(). Returns the pipelines; on failure disposes what it was given.
 */
export function* createPipelineSteps(device: Device, plan: EnginePlan, shaders: ShaderTable, file?: { name?: string }, shared?: Map<string, Pipeline>): Generator<PipelineRequest, Pipeline[][], Pipeline> {
  // `shared`: the engine's pipelines by key, reused and added to (plans for other shapes of an
  // engine with optimization profiles run the same modules); on failure only new ones are disposed
  const cache = shared ?? new Map<string, Pipeline>();
  const made: Pipeline[] = [];
  const declared = new Map<number, Set<number>>();
  const validated = new Map<number, SpirvValidation>();
  const validationOf = (m: number): SpirvValidation => {
    let v = validated.get(m);
    if (!v) {
      v = Device.validateSpirv(shaders.modules[m]);
      if (!v.valid) throw new EngineFileError('corrupt', `SPIR-V module ${m} is not valid SPIR-V: ${v.message}`, file?.name);
      if (!v.workgroup) throw new EngineFileError('corrupt', `SPIR-V module ${m} declares no workgroup size`, file?.name);
      validated.set(m, v);
    }
    return v;
  };
  const specIdsOf = (m: number): Set<number> => {
    let ids = declared.get(m);
    if (!ids) {
      try {
        ids = new Set(Device.reflectSpirv(shaders.modules[m]).specIds);
      } catch (e) {
        if (file && e instanceof VkrtError && !(e instanceof VulkanError)) throw new EngineFileError('corrupt', `SPIR-V module ${m}: ${e.message}`, file.name);
        throw e;
      }
      declared.set(m, ids);
    }
    return ids;
  };
  const out: Pipeline[][] = [];
  let done = false;
  try {
    for (let li = 0; li < plan.layers.length; li++) {
      const layer = plan.layers[li];
      const row: Pipeline[] = [];
      for (let di = 0; di < layer.dispatches.length; di++) {
        const d = layer.dispatches[di];
        const m = shaders.dispatchModule[li][di];
        if (file) validationOf(m); // before anything else reads the module
        const ids = specIdsOf(m);
        const used = dispatchSpecialization(d.workgroup, plan.paramMode === 'spec' ? d.params : undefined, ids);
        if (file) {
          const runs = validationOf(m).workgroup!.map((a) => (a.spec ? used.find((s) => s.id === a.id)?.value ?? a.value : a.value));
          if (runs.some((v, k) => v !== d.workgroup[k])) throw new EngineFileError('corrupt', `layer '${layer.name}' dispatch ${di}: SPIR-V module ${m} runs workgroups of ${runs.join('x')}, the dispatch says ${d.workgroup.join('x')}`, file.name);
        }
        const push = plan.paramMode === 'push' ? d.params.length : 0;
        const key = `${m}|${d.bindings.length}|${used.map((x) => `${x.id}=${x.value}`).join(',')}|${push}`;
        let p = cache.get(key);
        if (!p) {
          try {
            p = yield {
              layer: li,
              desc: {
                spirv: shaders.modules[m], name: `${layer.name}:${d.shader}`, bindingCount: d.bindings.length,
                pushConstantSize: plan.paramMode === 'push' ? 4 * Math.max(1, d.params.length) : 0,
                specialization: used,
              },
            };
          } catch (e) {
            if (file && e instanceof VkrtError && (!(e instanceof VulkanError) || refusedModule(e))) {
              throw new EngineFileError('corrupt', `layer '${layer.name}' dispatch ${di}: ${e instanceof VulkanError ? `the driver refused SPIR-V module ${m} (${e.message})` : e.message}`, file.name);
            }
            throw e;
          }
          cache.set(key, p);
          made.push(p);
        }
        row.push(p);
      }
      out.push(row);
    }
    done = true;
  } finally {
    if (!done) {
      for (const p of made) p.dispose();
      if (shared) for (const [k, p] of [...shared]) if (made.includes(p)) shared.delete(k);
    }
  }
  return out;
}
