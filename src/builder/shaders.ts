/**
 * The shader phase of the builder: every dispatch's GLSL (a shader file under shaders/, or the
 * source a generated kernel carries) compiled to SPIR-V with its defines and the engine's parameter
 * mode (src/gpu/compile.ts, shared with the loader of untrusted engine files), deduplicated into
 * the engine's shader table. A per-process cache keyed by source, defines and mode makes
 * rebuilding the same kernels free. Kernels compiled with VKRT_COOPMAT_KHR have their SPIR-V
 * rewritten from the NV to the KHR cooperative-matrix extension (spirv/coopmat-khr.ts, installed
 * into src/gpu/compile.ts here so that the loader's compiles rewrite alike).
 */
import { PluginError } from '../errors';
import { compileDispatchShader, setSpirvRewrite, ShaderRef } from '../gpu/compile';
import type { EnginePlan, PlannedLayer, ProfileShader, ShaderTable } from '../kernel/plan';
import { coopMatNvToKhr } from './spirv/coopmat-khr';
import { PROGRESS_SPAN, type BuildProgress } from '../kernel/progress';

// the KHR cooperative-matrix path: glslang compiles the NV extension, the words are rewritten
setSpirvRewrite('VKRT_COOPMAT_KHR', coopMatNvToKhr);

/** The SPIR-V of one dispatch (src/gpu/compile.ts; from its cache when the same kernel was compiled before). */
export function compileDispatch(d: ShaderRef, mode: 'spec' | 'push'): Uint32Array {
  return compileDispatchShader(d, mode);
}

/** Compiles every dispatch of a plan; each distinct module appears once in the table. */
export function compileShaders(plan: EnginePlan, progress?: (p: BuildProgress) => void): ShaderTable {
  const steps = compileShaderSteps(plan, progress);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/**
 * {@link compileShaders} one layer at a time: the generator yields after each layer (so a caller
 * can let the event loop run between compiles) and returns the table.
 */
export function* compileShaderSteps(plan: EnginePlan, progress?: (p: BuildProgress) => void): Generator<number, ShaderTable> {
  const modules: Uint32Array[] = [];
  const ids = new Map<Uint32Array, number>();
  const [f0, f1] = PROGRESS_SPAN.shaders;
  const n = plan.layers.length;
  const dispatchModule: number[][] = [];
  for (let li = 0; li < n; li++) {
    progress?.({ phase: 'shaders', layer: li, layers: n, fraction: f0 + ((f1 - f0) * li) / Math.max(1, n) });
    const layer = plan.layers[li];
    dispatchModule.push(layer.dispatches.map((d, k) => {
      const spirv = layer.plugin ? compilePluginDispatch(layer, k, plan.paramMode) : compileDispatch(d, plan.paramMode);
      let id = ids.get(spirv);
      if (id === undefined) { id = modules.length; ids.set(spirv, id); modules.push(spirv); }
      return id;
    }));
    yield li;
  }
  // optimization profiles: the shaders the other profile shapes need (builder/profiles.ts)
  const extra = plan.profiles?.shaders;
  if (!extra) return { modules, dispatchModule };
  const profileModules = extra.map((ref) => {
    const spirv = compileDispatch(profileShaderRef(ref), plan.paramMode);
    let id = ids.get(spirv);
    if (id === undefined) { id = modules.length; ids.set(spirv, id); modules.push(spirv); }
    return id;
  });
  return { modules, dispatchModule, profileModules };
}

/** A profile shader as the compiler takes it (params: only their count matters to the GLSL). */
export function profileShaderRef(ref: ProfileShader): ShaderRef {
  return { shader: ref.shader, source: ref.source, defines: ref.defines, params: new Array<number>(ref.paramCount).fill(0) };
}

/** A plugin layer's dispatch compiled; a GLSL error names the plugin, the layer and the tactic. */
function compilePluginDispatch(layer: PlannedLayer, k: number, mode: 'spec' | 'push'): Uint32Array {
  try {
    return compileDispatch(layer.dispatches[k], mode);
  } catch (e) {
    const p = layer.plugin!;
    throw new PluginError(`'${p.name}' (version ${p.version})`, `the GLSL of kernel '${layer.kernel}' (layer '${layer.name}', dispatch ${k}) does not compile: ${(e as Error).message}`, undefined, { cause: e });
  }
}
