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
import type { Attrs } from '../ops/types';

/** How a tensor is stored on the GPU. */
export type GpuType = 'f32' | 'f16' | 'i32';

/** GLSL scalar type of a GPU storage type. */
export function glslType(t: GpuType): string {
  return t === 'f32' ? 'float' : t === 'f16' ? 'float16_t' : 'int';
}

/** Bytes per element of a GPU storage type. */
export function gpuTypeBytes(t: GpuType): number {
  return t === 'f16' ? 2 : 4;
}

/**
 * GPU storage of an ONNX dtype in FP32 engines: floats as f32 (float64 is narrowed), every integer
 * type and bool as i32 (int64 values outside int32 are clamped when uploaded, see runtime/io.ts).
 * Returns undefined for types the GPU does not hold (string, complex).
 */
export function gpuTypeOf(dtype: DType): GpuType | undefined {
  switch (dtype) {
    case 'float32': case 'float64': case 'float16': case 'bfloat16': return 'f32';
    case 'string': case 'complex64': case 'complex128': return undefined;
    default: return dtype.startsWith('float') ? undefined : 'i32';
  }
}

export interface TensorDesc {
  dtype: DType;
  gpu: GpuType;
  dims: number[];
  /** The value, when known at build time (weights, folded constants). */
  constant?: Tensor;
}

export interface DeviceCaps {
  subgroupSize: number;
  /** maxComputeWorkGroupCount[0]. */
  maxGroupsX: number;
  maxGroupsY: number;
  maxWorkgroupInvocations: number;
  fp16: boolean;
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
  /** Shape facts and scalar parameters (u32 bits; floats via f32bits). At most 32. */
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
  /** Constant tensors the kernel binds as { weight: i } (already in GPU layout and type). */
  weights?: { data: Float32Array | Int32Array; }[];
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
