/**
 * GLSL of one kernel dispatch to SPIR-V: a shader of shaders/ (embedded: assets.ts) or the source a generated
 * kernel carries), its defines, and the parameter mode's defines. One function for the builder's
 * shader phase and for loading engine files that are not trusted (which compile the SPIR-V again
 * instead of running the file's), so both always produce the same module. A per-process cache keyed
 * by source, defines and mode makes compiling the same kernel again free.
 */
import { InputError } from '../errors';
import { Device } from './device';
import { shaderSource } from './shaders';

/** What a dispatch says about its shader (PlannedDispatch has these fields). */
export interface ShaderRef {
  /** Shader file under shaders/ without extension, or a generated kernel's name. */
  shader: string;
  /** GLSL source of a generated kernel. */
  source?: string;
  defines?: Record<string, string | number>;
  params: readonly number[];
}

/** Rewrites of the compiled words for kernels with a define set (the builder installs them). */
const rewrites = new Map<string, (words: Uint32Array) => Uint32Array>();

/**
 * Installs a rewrite of the SPIR-V of every kernel compiled with `define` set (the builder's
 * NV-to-KHR cooperative-matrix rewrite: src/builder/shaders.ts).
 */
export function setSpirvRewrite(define: string, rewrite: (words: Uint32Array) => Uint32Array): void {
  rewrites.set(define, rewrite);
}

/** SPIR-V cache per process, keyed by source text, defines and parameter mode. */
const spirvCache = new Map<string, Uint32Array>();

/** The GLSL source of a dispatch. @throws InputError for a shader name that is not a file under shaders/. */
export function shaderSourceOf(d: ShaderRef): string {
  if (d.source !== undefined) return d.source;
  if (!/^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*$/.test(d.shader)) throw new InputError(`shader name '${d.shader}' is not a path under shaders/`);
  const text = shaderSource(d.shader); // embedded in the package (assets.ts): no file is read
  if (text === undefined) throw new InputError(`shader '${d.shader}' is not one of vkrt's shaders (shaders/${d.shader}.comp)`);
  return text;
}

function definesOf(d: ShaderRef, mode: 'spec' | 'push'): Record<string, string | number> {
  const defines: Record<string, string | number> = { ...(d.defines ?? {}) };
  if (mode === 'push') {
    defines.VKRT_PUSH_PARAMS = 1;
    defines.VKRT_NUM_PARAMS = Math.max(1, d.params.length);
  }
  return defines;
}

/**
 * What the SPIR-V of a dispatch is a function of: its defines (with the parameter mode's) and its
 * GLSL source. Dispatches with the same key run the same module, others different modules.
 */
export function shaderKey(d: ShaderRef, mode: 'spec' | 'push'): string {
  return `${JSON.stringify(definesOf(d, mode))}\n${shaderSourceOf(d)}`;
}

/** The SPIR-V of one dispatch (from the cache when the same kernel was compiled before). */
export function compileDispatchShader(d: ShaderRef, mode: 'spec' | 'push'): Uint32Array {
  const src = shaderSourceOf(d);
  const defines = definesOf(d, mode);
  const key = `${JSON.stringify(defines)}\n${src}`;
  let spirv = spirvCache.get(key);
  if (!spirv) {
    spirv = Device.compileGlsl(src, { name: d.shader, defines });
    for (const [define, rewrite] of rewrites) if (defines[define]) spirv = rewrite(spirv);
    spirvCache.set(key, spirv);
  }
  return spirv;
}

/** Forgets every compiled module (benchmarks measure compiling, not the cache). */
export function clearCompiledShaders(): void {
  spirvCache.clear();
}
