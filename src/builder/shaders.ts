/**
 * The shader phase of the builder: every dispatch's GLSL (a shader file under shaders/, or the
 * source a generated kernel carries) compiled to SPIR-V with its defines and the engine's parameter
 * mode, deduplicated into the engine's shader table. A per-process cache keyed by source, defines
 * and mode makes rebuilding the same kernels free. Kernels compiled with VKRT_COOPMAT_KHR have their
 * SPIR-V rewritten from the NV to the KHR cooperative-matrix extension (spirv/coopmat-khr.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { InputError, PluginError } from '../errors';
import { Device } from '../gpu/device';
import type { DispatchDesc } from '../kernel/contract';
import type { EnginePlan, PlannedLayer, ShaderTable } from '../kernel/plan';
import { packageRoot } from '../native';
import { coopMatNvToKhr } from './spirv/coopmat-khr';

/** SPIR-V cache per process, keyed by source text, defines and parameter mode. */
const spirvCache = new Map<string, Uint32Array>();

/** What compiling a dispatch reads. */
type ShaderRef = Pick<DispatchDesc, 'shader' | 'source' | 'defines' | 'params'>;

function shaderSource(d: ShaderRef): string {
  if (d.source) return d.source;
  const file = path.join(packageRoot(), 'shaders', `${d.shader}.comp`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`shader '${d.shader}' not found at ${file}`);
  }
}

/** The SPIR-V of one dispatch (from the cache when the same kernel was compiled before). */
export function compileDispatch(d: ShaderRef, mode: 'spec' | 'push'): Uint32Array {
  const src = shaderSource(d);
  const defines: Record<string, string | number> = { ...(d.defines ?? {}) };
  if (mode === 'push') {
    defines.VKRT_PUSH_PARAMS = 1;
    defines.VKRT_NUM_PARAMS = Math.max(1, d.params.length);
  }
  const key = `${JSON.stringify(defines)}\n${src}`;
  let spirv = spirvCache.get(key);
  if (!spirv) {
    spirv = Device.compileGlsl(src, { name: d.shader, defines });
    // the KHR cooperative-matrix path: glslang compiles the NV extension, the words are rewritten
    if (defines.VKRT_COOPMAT_KHR) spirv = coopMatNvToKhr(spirv);
    spirvCache.set(key, spirv);
  }
  return spirv;
}

/** Compiles every dispatch of a plan; each distinct module appears once in the table. */
export function compileShaders(plan: EnginePlan): ShaderTable {
  const modules: Uint32Array[] = [];
  const ids = new Map<Uint32Array, number>();
  const dispatchModule = plan.layers.map((layer) => layer.dispatches.map((d, k) => {
    const spirv = layer.plugin ? compilePluginDispatch(layer, k, plan.paramMode) : compileDispatch(d, plan.paramMode);
    let id = ids.get(spirv);
    if (id === undefined) { id = modules.length; ids.set(spirv, id); modules.push(spirv); }
    return id;
  }));
  return { modules, dispatchModule };
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
