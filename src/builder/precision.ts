/**
 * The precision pass of the builder (FP16 engines, docs/fp16.md). Precision is a property of each
 * tensor's GPU storage: a layer that runs in FP16 stores every float tensor it reads or writes as
 * f16 (weights included); integer tensors stay i32. This module decides, layer by layer, whether a
 * layer may run in FP16 and keeps track of how every tensor is stored, so that the builder can put
 * a conversion layer wherever an f16 tensor meets an FP32 layer (or the reverse) and at the engine's
 * edges (model inputs and outputs keep their ONNX types).
 *
 * A layer runs in FP32 when any of these holds (each reason is logged once, as a summary):
 * - the engine is not FP16 (BuilderConfig.fp16 unset) or the device lacks FP16 storage/arithmetic;
 * - the layer has no float tensor (nothing to narrow);
 * - the caller pinned it (BuilderConfig.fp32Layers lists its name, an output name or its op type);
 * - a constant input (weight or folded constant) does not fit FP16 (see fp16RangeProblem);
 * - it reads a value derived from such a layer (the "wide" taint, see below);
 * - its op's kernel has no FP16 variant (the implementation does not set KernelImpl.fp16).
 */
import { Node } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { DeviceCaps, TensorDesc } from '../kernel/contract';
import type { OpRegistry } from '../ops/registry';
import { GpuType, gpuTypeOf } from '../kernel/storage';

/** Largest finite FP16 value. */
export const FP16_MAX = 65504;
/** Values below half the smallest FP16 subnormal (2^-24) round to zero. */
export const FP16_FLUSH = 2 ** -25;

/**
 * Why a constant tensor cannot be stored in FP16, or undefined when it can. Overflow: any finite
 * |x| > 65504 (it would become Inf). Underflow: the values with |x| < 2^-25, which become 0 in
 * FP16, hold at least 1% of the tensor's magnitude (sum of |x|): an epsilon constant or a tensor of
 * scaled-down weights loses what the layer computes with, whereas tiny stragglers among normal
 * weights (a trained layer often has a few percent of them) change nothing measurable. Subnormal
 * results (2^-25..2^-14) lose bits gradually and are accepted.
 */
export function fp16RangeProblem(t: Tensor): string | undefined {
  return fp16Range(t)?.reason;
}

/** fp16RangeProblem with the kind of problem (only overflow widens what the layer computes). */
export function fp16Range(t: Tensor): { kind: 'overflow' | 'underflow'; reason: string } | undefined {
  if (!t.dtype.startsWith('float')) return undefined;
  const d = t.data as ArrayLike<number>;
  let maxAbs = 0, nonzero = 0, flushed = 0, mass = 0, flushedMass = 0;
  for (let i = 0; i < d.length; i++) {
    const a = Math.abs(d[i]);
    if (!Number.isFinite(a)) continue; // Inf/NaN constants are what they are in any precision
    if (a > maxAbs) maxAbs = a;
    mass += a;
    if (a !== 0) {
      nonzero++;
      if (a < FP16_FLUSH) { flushed++; flushedMass += a; }
    }
  }
  if (maxAbs > FP16_MAX) return { kind: 'overflow', reason: `|x| reaches ${maxAbs.toPrecision(4)} > ${FP16_MAX}` };
  if (flushed > 0 && flushedMass >= 0.01 * mass) {
    return { kind: 'underflow', reason: `${flushed} of ${nonzero} nonzero values (${((100 * flushedMass) / mass).toPrecision(3)}% of the magnitude) are below 2^-25 and would become 0` };
  }
  return undefined;
}

export interface PrecisionOptions {
  /** Build FP16 layers where the device and the layer allow it. */
  fp16?: boolean;
  /**
   * Layers pinned to FP32 (TensorRT's layer precision constraints): entries match a node name, an
   * output tensor name, or an op type ('Softmax' pins every Softmax).
   */
  fp32Layers?: readonly string[];
}

export type Precision = 'fp32' | 'fp16';

/** Per-build precision state: the decisions and the storage type of every tensor so far. */
export class PrecisionPlanner {
  /** FP16 is requested and the device can do it. */
  readonly enabled: boolean;
  private readonly pinned: Set<string>;
  private readonly storage = new Map<string, GpuType>();
  /** Tensors whose values may exceed the FP16 range (derived from out-of-range constants). */
  private readonly wide = new Set<string>();
  private readonly reasons = new Map<string, string[]>();
  private readonly unmatchedPins: Set<string>;

  constructor(options: PrecisionOptions, caps: DeviceCaps, private readonly log: (line: string) => void, private readonly registry: OpRegistry) {
    this.pinned = new Set(options.fp32Layers ?? []);
    this.unmatchedPins = new Set(this.pinned);
    this.enabled = !!options.fp16 && caps.fp16;
    if (options.fp16 && !caps.fp16) {
      log('fp16: the device has no FP16 storage/arithmetic (shaderFloat16 + storageBuffer16BitAccess); building every layer in FP32');
    }
  }

  /** How a tensor is stored now (by default its FP32-engine type). */
  storageOf(name: string, desc: Pick<TensorDesc, 'dtype'>): GpuType {
    return this.storage.get(name) ?? gpuTypeOf(desc.dtype)!;
  }

  /**
   * The precision a node asks for before kernel selection. `inputs`/`outputs` are the FP32
   * descriptors; `names` the node's input names (absent: '').
   */
  choose(node: Node, inputs: readonly (TensorDesc | undefined)[], outputs: readonly TensorDesc[]): Precision {
    if (!this.enabled) return 'fp32';
    const floats = [...inputs, ...outputs].some((t) => t && t.gpu === 'f32');
    if (!floats) return 'fp32';
    const label = node.name || node.outputs[0];
    for (const key of [node.name, ...node.outputs, node.opType]) {
      if (key && this.pinned.has(key)) {
        this.unmatchedPins.delete(key);
        this.note('pinned to FP32 by fp32Layers', label);
        return 'fp32';
      }
    }
    let wide = false, keep = false;
    inputs.forEach((t, k) => {
      if (!t || t.gpu !== 'f32') return;
      if (t.constant) {
        const p = fp16Range(t.constant);
        if (p) {
          keep = true;
          if (p.kind === 'overflow') wide = true;
          this.note('constants outside the FP16 range', `${label} (${node.inputs[k]}: ${p.reason})`);
        }
      } else if (this.wide.has(node.inputs[k])) {
        wide = true;
        this.note('inputs derived from values outside the FP16 range', label);
      }
    });
    // overflow widens the outputs too (until a range-resetting op); underflow only this layer
    if (wide && !this.registry.traits(node).rangeResetting) for (const o of node.outputs) if (o) this.wide.add(o);
    if (wide || keep) return 'fp32';
    return 'fp16';
  }

  /** Descriptors as a layer of the given precision sees them: float tensors f16 in FP16. */
  retype<T extends TensorDesc | undefined>(descs: readonly T[], precision: Precision): T[] {
    if (precision === 'fp32') return [...descs];
    return descs.map((t) => (t && t.gpu === 'f32' ? { ...t, gpu: 'f16' as GpuType } : t));
  }

  /** The op's kernel had no FP16 variant: the layer runs in FP32 (logged once per op type). */
  noKernel(node: Node): void {
    this.note('no FP16 kernel', node.opType);
  }

  /** Whether a layer (or a view) has decided how the tensor is stored. */
  known(name: string): boolean {
    return this.storage.has(name);
  }

  /** Records how a layer's outputs are stored. */
  produced(name: string, gpu: GpuType): void {
    this.storage.set(name, gpu);
  }

  /** A view's output is its input's bytes: same storage, same range. */
  aliased(output: string, input: string, desc: Pick<TensorDesc, 'dtype'>): void {
    this.storage.set(output, this.storageOf(input, desc));
    if (this.wide.has(input)) this.wide.add(output);
  }

  private note(reason: string, what: string): void {
    const l = this.reasons.get(reason) ?? [];
    l.push(what);
    this.reasons.set(reason, l);
  }

  /** Logs the FP32 fallbacks, one line per reason, and pins that matched nothing. */
  summarize(layers: readonly { precision: Precision | 'int8' }[]): void {
    if (!this.enabled) return;
    const n16 = layers.filter((l) => l.precision === 'fp16').length;
    this.log(`fp16: ${n16} of ${layers.length} layers in FP16 (conversion layers included)`);
    for (const [reason, items] of this.reasons) {
      const counts = new Map<string, number>();
      for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
      const list = [...counts].map(([k, c]) => (c > 1 ? `${k} x${c}` : k));
      this.log(`fp16: kept in FP32 (${reason}): ${list.slice(0, 20).join(', ')}${list.length > 20 ? `, ... (${list.length} in all)` : ''}`);
    }
    if (this.unmatchedPins.size) this.log(`fp16: fp32Layers entries that match no layer: ${[...this.unmatchedPins].join(', ')}`);
  }
}

/**
 * The dispatch of a conversion layer: a float tensor from one storage type to the other, on the
 * GPU (bindings: 0 source, 1 destination). f32 -> f16 rounds to nearest even; values beyond the
 * FP16 range become +-Inf, which is why the range checks above keep such layers in FP32.
 */
export { conversionDispatch } from '../kernel/pointwise';
