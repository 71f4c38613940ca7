/**
 * The contract between operators and the GPU: an op's `kernel(ctx)` returns one or more candidate
 * implementations (the builder picks one; auto-tuning times them on the device), each a list of
 * dispatch descriptors. Descriptors are plain data: which shader, which defines, the shape facts as
 * 32-bit params (specialization constants or push constants, see shaders/common/vkrt.glsl), the
 * workgroup and grid sizes and what each binding refers to. They never touch native code.
 */
import type { DType } from '../ir/dtype';
import type { Node } from '../ir/graph';
import type { Tensor } from '../ir/tensor';
import type { Attrs } from '../ir/attrs';
import { GpuArray, GpuType } from './storage';

export type { GpuArray, GpuType } from './storage';

/** True when any float tensor of the kernel is stored as f16 (the layer runs in FP16). */
export function usesF16(ctx: Pick<KernelContext, 'inputs' | 'outputs'>): boolean {
  return ctx.inputs.some((t) => t?.gpu === 'f16') || ctx.outputs.some((t) => t.gpu === 'f16');
}

/**
 * Shader defines for a kernel whose float tensors are f16: VKRT_F16 makes shaders/common/vkrt.glsl
 * enable 16-bit storage and declare float buffers as float16_t (FT), see docs/fp16.md.
 */
export function f16Defines(ctx: Pick<KernelContext, 'inputs' | 'outputs'>): Record<string, number> {
  return usesF16(ctx) ? { VKRT_F16: 1 } : {};
}

/**
 * Marks kernel implementations as FP16-capable and adds the VKRT_F16 define to their dispatches
 * when the layer's float tensors are f16. For kernels whose shaders declare every float buffer
 * through FT (or VKRT_WORD) and convert on load and store.
 */
export function withF16(impls: KernelImpl[], ctx: Pick<KernelContext, 'inputs' | 'outputs'>): KernelImpl[] {
  const defs = f16Defines(ctx);
  return impls.map((impl) => ({
    ...impl,
    fp16: true,
    dispatches: impl.dispatches.map((d) => ({ ...d, defines: { ...(d.defines ?? {}), ...defs } })),
  }));
}

export interface TensorDesc {
  dtype: DType;
  gpu: GpuType;
  dims: number[];
  /** The value, when known at build time (weights, folded constants). */
  constant?: Tensor;
}

/**
 * A cooperative-matrix (matrix unit) combination kernels may use: Result (M x N) = A (M x K) x B
 * (K x N) + C in subgroup scope, with component types by name (`f16`, `f32`, see gpu/coopmat.ts),
 * and how a kernel that uses it is compiled (shaders/common/coopmat.glsl): `nv` GLSL's
 * GL_NV_cooperative_matrix as is (VK_NV_cooperative_matrix), `khr` the same SPIR-V rewritten to
 * SPV_KHR_cooperative_matrix by the builder, `emulate` loops that any device runs (tests only).
 */
export interface CoopMatCaps {
  path: 'nv' | 'khr' | 'emulate';
  M: number;
  N: number;
  K: number;
  a: string;
  b: string;
  c: string;
  result: string;
}

export interface DeviceCaps {
  subgroupSize: number;
  /** maxComputeWorkGroupCount[0]. */
  maxGroupsX: number;
  maxGroupsY: number;
  maxWorkgroupInvocations: number;
  fp16: boolean;
  /** shaderInt8 and storageBuffer8BitAccess (int8 arithmetic, shared arrays and 8-bit buffers); absent: no. */
  int8?: boolean;
  /** shaderIntegerDotProduct (SPIR-V OpSDot on packed 4x8-bit words); absent: no. */
  int8DotProduct?: boolean;
  /** The driver reports 4x8-bit packed signed dot products as accelerated (faster than the ALU sequence). */
  int8DotProductAccelerated?: boolean;
  /** maxComputeSharedMemorySize (bytes); absent: the Vulkan minimum, 16 KiB. */
  maxSharedMemory?: number;
  /** The cooperative-matrix combinations kernels may use (builder/caps.ts); absent or empty: none. */
  cooperativeMatrix?: readonly CoopMatCaps[];
  /**
   * maxStorageBufferRange: the most bytes one binding may span. Larger tensors are split into
   * pieces the device binds (builder/phases/big-tensors.ts); absent: no limit is planned for.
   */
  maxStorageBufferRange?: number;
  /**
   * The most bytes one buffer may have (maxMemoryAllocationSize): a larger arena or weight set is
   * planned over several buffers, no tensor straddling two; absent: no limit is planned for.
   */
  maxBufferBytes?: number;
}

/** One cooperative-matrix combination a driver lists (gpu/coopmat.ts's CoopMatProperty, structurally). */
export interface CoopMatPropertySource {
  extension: string;
  M: number;
  N: number;
  K: number;
  A: string;
  B: string;
  C: string;
  result: string;
  saturatingAccumulation: boolean;
  scope: string;
}

/** The device facts {@link DeviceCaps} and the plan's alignment are derived from (an open device's info). */
export interface DeviceCapsSource {
  subgroupSize: number;
  maxComputeWorkGroupCount: readonly number[];
  maxComputeWorkGroupInvocations: number;
  fp16: boolean;
  int8?: boolean;
  int8DotProduct?: boolean;
  int8DotProductAccelerated?: boolean;
  minStorageBufferOffsetAlignment: number;
  maxComputeSharedMemorySize?: number;
  maxStorageBufferRange?: number;
  maxMemoryAllocationSize?: number;
  maxBufferSize?: number;
  vulkanMemoryModel?: boolean;
  cooperativeMatrixProperties?: readonly CoopMatPropertySource[];
}

/** Which matrix-unit paths kernels may use (BuilderConfig.cooperativeMatrix). */
export type CoopMatChoice = 'auto' | 'nv' | 'khr' | 'off' | 'emulate';

/** The emulated combination of BuilderConfig.cooperativeMatrix 'emulate' (shaders/common/coopmat.glsl). */
export const EMULATED_COOPMAT: CoopMatCaps = { path: 'emulate', M: 16, N: 16, K: 16, a: 'f16', b: 'f16', c: 'f32', result: 'f32' };
/** The emulated int8 combination of 'emulate' (int8 x int8 -> int32, the shape NVIDIA lists for int8), on int8 devices. */
export const EMULATED_COOPMAT_INT8: CoopMatCaps = { path: 'emulate', M: 16, N: 16, K: 32, a: 'i8', b: 'i8', c: 'i32', result: 'i32' };

/** Component types a combination's A/B need the device's FP16 (f16) or int8 (i8, u8) support for. */
const NEEDS: Record<string, 'fp16' | 'int8'> = { f16: 'fp16', i8: 'int8', u8: 'int8' };

/**
 * The cooperative-matrix combinations kernels may use on this device (DeviceCaps.cooperativeMatrix),
 * per BuilderConfig.cooperativeMatrix. A real path needs subgroup scope, the Vulkan memory model
 * (GL_NV_cooperative_matrix compiles to it), and FP16 for f16 operands / int8 for i8 and u8
 * operands (the kernels stage them in shared memory as such); other operand types are left out.
 * 'auto' takes each distinct combination once: from VK_NV_cooperative_matrix where that lists it
 * (glslang's SPIR-V runs unchanged), else from VK_KHR_cooperative_matrix (the rewritten SPIR-V).
 */
export function coopMatCaps(info: Pick<DeviceCapsSource, 'fp16' | 'int8' | 'vulkanMemoryModel' | 'cooperativeMatrixProperties'>, choice: CoopMatChoice = 'auto'): CoopMatCaps[] {
  if (choice === 'off') return [];
  if (choice === 'emulate') return info.int8 ? [EMULATED_COOPMAT, EMULATED_COOPMAT_INT8] : [EMULATED_COOPMAT];
  if (!info.vulkanMemoryModel) return [];
  const out: CoopMatCaps[] = [];
  const seen = new Set<string>();
  const order = [...(info.cooperativeMatrixProperties ?? [])].sort((x, y) => (x.extension === y.extension ? 0 : x.extension === 'VK_NV_cooperative_matrix' ? -1 : 1));
  for (const p of order) {
    const path = p.extension === 'VK_NV_cooperative_matrix' ? 'nv' : 'khr';
    if (p.scope !== 'subgroup' || p.saturatingAccumulation || (choice !== 'auto' && choice !== path)) continue;
    const need = [NEEDS[p.A], NEEDS[p.B]];
    if (need.includes('fp16') && !info.fp16) continue;
    if (need.includes('int8') && !info.int8) continue;
    if (!need[0] || !need[1]) continue; // component types no kernel stages (f32, bf16, float8, ...)
    const c: CoopMatCaps = { path, M: p.M, N: p.N, K: p.K, a: p.A, b: p.B, c: p.C, result: p.result };
    const key = `${c.M}x${c.N}x${c.K}:${c.a},${c.b},${c.c},${c.result}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** The most bytes one buffer may have: maxMemoryAllocationSize, and maxBufferSize where reported (0: unknown). */
export function largestBuffer(i: Pick<DeviceCapsSource, 'maxMemoryAllocationSize' | 'maxBufferSize'>): number {
  const known = [i.maxMemoryAllocationSize, i.maxBufferSize].filter((v): v is number => !!v && v > 0);
  return known.length ? Math.min(...known) : 0;
}

/**
 * The device facts kernels plan for, with the storage-buffer offset alignment of the memory plan:
 * one derivation, used by the builder (builder/caps.ts) and by the loader that derives a loaded
 * engine's dispatches again (src/runtime/plan-verify.ts).
 */
export function capsOf(i: DeviceCapsSource, cooperativeMatrix: CoopMatChoice = 'auto'): DeviceCaps & { alignment: number } {
  return {
    subgroupSize: i.subgroupSize || 32,
    maxGroupsX: i.maxComputeWorkGroupCount[0],
    maxGroupsY: i.maxComputeWorkGroupCount[1],
    maxWorkgroupInvocations: i.maxComputeWorkGroupInvocations,
    fp16: i.fp16,
    int8: !!i.int8,
    int8DotProduct: !!i.int8DotProduct,
    int8DotProductAccelerated: !!i.int8DotProduct && !!i.int8DotProductAccelerated,
    maxSharedMemory: i.maxComputeSharedMemorySize || 16384,
    cooperativeMatrix: coopMatCaps(i, cooperativeMatrix),
    ...(i.maxStorageBufferRange ? { maxStorageBufferRange: i.maxStorageBufferRange } : {}),
    ...(largestBuffer(i) ? { maxBufferBytes: largestBuffer(i) } : {}),
    alignment: Math.max(16, Number(i.minStorageBufferOffsetAlignment) || 256),
  };
}

export interface KernelContext {
  readonly node: Node;
  readonly opset: number;
  readonly attrs: Attrs;
  readonly inputs: readonly (TensorDesc | undefined)[];
  readonly outputs: readonly TensorDesc[];
  readonly caps: DeviceCaps;
  fail(message: string): never;
  unsupported(message: string): never;
}

/** What a binding of a dispatch refers to. */
export type BindingRef =
  | { input: number }
  | { output: number }
  /** An extra constant tensor of the kernel (KernelImpl.weights[i]), e.g. re-laid-out weights. */
  | { weight: number }
  /** A scratch buffer of the kernel (KernelImpl.scratch[i] bytes), live only during this layer. */
  | { scratch: number };

export interface DispatchDesc {
  /** Shader file under shaders/ without extension (`elementwise/binary`), or a generated kernel's name. */
  shader: string;
  /** GLSL source of a generated kernel (then `shader` only names it). */
  source?: string;
  defines?: Record<string, string | number>;
  /**
   * Shape facts and scalar parameters as u32 words, at most 32: for a shader under shaders/, the
   * words of its parameter layout (`LAYOUT.pack({...})`, see ./params.ts).
   */
  params: number[];
  /** Workgroup size (specialization constants 100-102). */
  workgroup: [number, number, number];
  /** Number of workgroups. */
  groups: [number, number, number];
  bindings: BindingRef[];
}

export interface KernelImpl {
  /** Names the implementation in build logs, the inspector and auto-tuning (`conv2d_direct`). */
  name: string;
  dispatches: DispatchDesc[];
  /**
   * The implementation honours FP16 storage: it reads and writes every tensor in the GPU type
   * its KernelContext gave (`ctx.inputs[i].gpu`, `ctx.outputs[i].gpu`, f16 included). Absent on
   * an FP16 candidate layer, the builder runs the layer in FP32 instead (see builder/precision.ts).
   */
  fp16?: boolean;
  /** Constant tensors the kernel binds as { weight: i } (already in GPU layout and type). */
  weights?: { data: GpuArray; }[];
  /** Scratch byte sizes, bound as { scratch: i }. */
  scratch?: number[];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The bits of a float32, for params. */
export function f32bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** Grid for `n` independent invocations at `wg` per group, spread over x then y. */
export function grid1d(n: number, wg: number, caps: DeviceCaps): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= caps.maxGroupsX) return [groups, 1, 1];
  const x = caps.maxGroupsX;
  const y = Math.ceil(groups / x);
  if (y > caps.maxGroupsY) throw new Error(`${n} invocations exceed the device's dispatch limits`);
  return [x, y, 1];
}
