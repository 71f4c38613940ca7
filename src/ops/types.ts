import { Attrs } from '../ir/attrs';
import { Graph, Node, ValueType } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import type { KernelContext, KernelImpl } from '../kernel/contract';

/** What flows between ops in the reference: a tensor, a sequence of tensors, or an empty optional. */
export type RuntimeValue = Tensor | Tensor[] | null;

/** What an op sees while it runs in the reference interpreter. */
export interface OpContext {
  readonly node: Node;
  /** The opset version imported for the op's domain. */
  readonly opset: number;
  readonly attrs: Attrs;
  /** The raw input values (sequences and optionals included), '' inputs as undefined. */
  readonly values: readonly (RuntimeValue | undefined)[];
  /** Number of outputs the node declares (some optional outputs may be ''). */
  readonly outputCount: number;
  /** Run a subgraph (If/Loop/Scan bodies) with the given inputs, in the current scope. */
  runGraph(graph: Graph, inputs: (RuntimeValue | undefined)[]): RuntimeValue[];
  /** Throw a GraphError about this node. */
  fail(message: string): never;
  /** Throw an UnsupportedError about this node. */
  unsupported(message: string): never;
}

/** What an op sees during shape inference. */
export interface ShapeContext {
  readonly node: Node;
  readonly opset: number;
  readonly attrs: Attrs;
  /** Input i's value if it is known at build time (initializer or folded constant). */
  constant(i: number): Tensor | undefined;
  /**
   * Infer a subgraph's output types from its input types (outer-scope values visible); entries
   * are undefined where unknown. Present during graph-level inference.
   */
  inferGraph?(graph: Graph, inputs: readonly (ValueType | undefined)[]): (ValueType | undefined)[];
  readonly outputCount: number;
  fail(message: string): never;
  unsupported(message: string): never;
}

/**
 * Facts about an operator that passes act on, declared once on its definition (never as op-name
 * lists in the passes). Read through OpRegistry.traits(node).
 */
export interface OpTraits {
  /** Outputs differ between runs with equal inputs (random ops): never folded at build time. */
  nondeterministic?: boolean;
  /** Outputs depend only on the inputs' shapes (Shape, Size): folded from static shapes alone. */
  shapeOnly?: boolean;
  /**
   * The output range does not grow with the input's magnitude (bounded or normalised outputs, bool
   * results): in FP16 engines a value too large for FP16 upstream stops widening layers here.
   */
  rangeResetting?: boolean;
  /** The GPU kernel has an epilogue that runs a fused activation (and residual add) on its result. */
  epilogue?: boolean;
  /**
   * The GPU kernel reads and writes the packed storage types (float8*, float4e2m1: codes packed in
   * 32-bit words, src/kernel/storage.ts); the builder refuses packed tensors for any other op.
   */
  packedStorage?: boolean;
  /**
   * The GPU kernels read the inputs and write the outputs at these positions as bytes when they
   * are int8/uint8 tensors the builder stores one byte per element ('i8' / 'u8', src/kernel/storage.ts;
   * chosen by src/builder/int8-storage.ts only where every producer and consumer lists the position).
   */
  byteStorage?: { readonly inputs: readonly number[]; readonly outputs: readonly number[] };
  /** The GPU kernel compares string tensors held as run-wide ids (Equal); others refuse them. */
  stringIds?: boolean;
  /**
   * Output 0 always has input 0's shape (unary elementwise ops, Cast, CastLike): shape inference
   * may carry a static output shape back to an input whose shape forward inference left open.
   */
  sameShape?: boolean;
  /**
   * Each output element is computed from the input elements at the same (broadcast) position, and
   * the kernel's result does not depend on where the tensors start: the builder may run the node
   * as several nodes over row ranges of its tensors when a tensor is larger than the device binds
   * at once (src/builder/phases/big-tensors.ts, docs/big-tensors.md).
   */
  elementwise?: boolean;
  /**
   * Output 0's items along axis 0 (the batch, or the rows) depend only on the same items of input
   * 0 (and of any input shaped like output 0); every other input is used whole. The builder may run
   * the node once per range of items when a tensor is larger than the device binds
   * (src/builder/phases/big-tensors.ts). A function decides from the attributes and input 0's rank.
   */
  batchIndependent?: boolean | ((attrs: Attrs, opset: number, rank: number) => boolean);
  /**
   * The output shapes depend on the input values (NonZero, Compress): no build can size them.
   * `bounded` names the op (domain 'vkrt', src/ops/tensor/bounded.ts) that computes the same
   * outputs at their upper-bound shape, followed by one int64 [1] tensor per output holding its
   * actual extent along `trimAxis(attrs, output)` (negative counts from the end). The staged engine
   * (src/api/staged.ts) ends a GPU stage after such a node, reads the extents back and trims.
   * `outputs`: how many outputs the op has (the twin has all of them, then as many counts).
   */
  dataDependent?: { readonly bounded: string; readonly outputs: number; trimAxis(attrs: Attrs, output: number): number };
}

/**
 * One operator (or one member of a family). The ONNX attribute defaults live in the code that reads
 * them (`ctx.attrs.int('axis', 1)`), written once per op. `reference` is plain and obviously
 * correct: the oracle for GPU kernels, the constant folder and the CPU interpreter.
 */
export interface OpDef {
  /** ONNX op type, verbatim (`Conv`). */
  opType: string;
  /** '' for the default ONNX domain, else e.g. 'ai.onnx.ml', 'com.microsoft'. */
  domain?: string;
  /** Lowest opset version this definition implements (earlier versions are refused). */
  sinceVersion?: number;
  /**
   * Output types from input types. Absent means "unknown" (the builder then needs the value to be
   * foldable). Inputs that are '' come as undefined.
   */
  inferShape?(ctx: ShapeContext, inputs: readonly (ValueType | undefined)[]): ValueType[];
  /** Compute the outputs. Inputs that are '' come as undefined; tensors only (see ctx.values). */
  reference(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): RuntimeValue[];
  /**
   * GPU implementations for this node, best first (the builder takes the first that applies, or
   * times them all when auto-tuning). Absent: the op has no GPU kernel yet.
   */
  kernel?(ctx: KernelContext): KernelImpl[];
  /**
   * The output is the input's bytes reinterpreted (Reshape, Squeeze, ...): no kernel, an alias.
   * A function decides per node (Dropout is a view only in inference mode).
   */
  view?: boolean | ((ctx: KernelContext) => boolean);
  /** Facts the graph passes and the precision planner act on (OpTraits). */
  traits?: OpTraits;
}
