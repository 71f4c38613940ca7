/**
 * The one state a build carries through its phases (builder.ts lists them in order). Each phase
 * reads what earlier phases left and fills its own part; nothing else is shared between phases.
 */
import type { Model, Node, ValueType } from '../ir/graph';
import type { Tensor } from '../ir/tensor';
import type { DeviceCaps } from '../kernel/contract';
import type { EngineIO, PlannedLayer, PlannedTensor } from '../kernel/plan';
import type { ByteType, GpuArray } from '../kernel/storage';
import type { OpRegistry } from '../ops/registry';
import type { BuilderConfig } from './config';
import type { SubViews } from './passes/subviews';
import type { PrecisionPlanner } from './precision';

/** A piece of a value larger than the device binds: `child` holds elements [elemOffset, elemOffset + its size) of `whole` (phases/big-tensors.ts). */
export interface Piece {
  child: string;
  whole: string;
  elemOffset: number;
}

export interface BuildState {
  readonly config: BuilderConfig;
  readonly caps: DeviceCaps & { alignment: number };
  readonly registry: OpRegistry;
  readonly log: (line: string) => void;
  /** The model being built (the optimizer replaces it with its rewritten copy). */
  model: Model;
  /** ONNX nodes before any rewriting (for the stats). */
  readonly onnxNodes: number;
  /** Graph inputs that are not initializers, in order. */
  realInputs: string[];
  /** Concrete input types (input-shapes phase). */
  inputTypes: Map<string, ValueType>;
  /** Every value's type, the values known at build time, the nodes folded away (shapes phase). */
  types: Map<string, ValueType>;
  constants: Map<string, Tensor>;
  folded: Set<Node>;
  /** Precision decisions and tensor storage (FP16 engines). */
  prec: PrecisionPlanner;
  /** int8/uint8 tensors held one byte per element (int8-storage.ts, decided before kernel selection). */
  byteStorage: Map<string, ByteType>;
  /** Layers in execution order (kernel selection, plus conversion layers). */
  layers: PlannedLayer[];
  tensors: Map<string, PlannedTensor>;
  weightData: Map<string, GpuArray>;
  /** View outputs -> the value whose bytes they reinterpret. */
  aliasOf: Map<string, string>;
  /** Concat/Split slices written in place. */
  subviews: SubViews;
  /** Nodes that became views (aliases or slices). */
  views: number;
  /** `${name}::${gpu}` -> the converted copy of a tensor in another storage type. */
  conversions: Map<string, string>;
  /** Graph outputs whose bytes live in another tensor (an f16 result converted back to f32). */
  outputOverride: Map<string, string>;
  inputs: EngineIO[];
  outputs: EngineIO[];
  constantOutputs: Map<string, Tensor>;
  /** Pieces of tensors larger than the device binds (phases/big-tensors.ts), made slices after kernel selection. */
  pieces: Piece[];
  /** Memory plan results. */
  arenaBytes: number;
  naiveActivationBytes: number;
  weightBytes: number;
  /** Per buffer, when the arena or the weights span several (memory.ts, weights.ts). */
  arenaBuffers?: number[];
  weightBuffers?: number[];
}

/** The tensor that owns a value's bytes (chains of views collapse). */
export function rootOf(state: Pick<BuildState, 'aliasOf'>, name: string): string {
  let r = name;
  for (let k = 0; state.aliasOf.has(r) && k < 10000; k++) r = state.aliasOf.get(r)!;
  return r;
}
