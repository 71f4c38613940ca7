/**
 * The engine plan: what the builder produces and the runtime loads (TensorRT's serialized engine
 * before it is serialized). Plain data: layers with their dispatches, tensors with arena or weight
 * offsets, the weights in GPU form, and the SPIR-V each dispatch runs.
 */
import type { DType } from '../ir/dtype';
import type { Attr, ValueType } from '../ir/graph';
import type { Tensor } from '../ir/tensor';
import type { CoopMatChoice, DispatchDesc } from './contract';
import type { GpuArray, GpuType } from './storage';

export type TensorKind = 'input' | 'output' | 'activation' | 'weight';

export interface PlannedTensor {
  name: string;
  dtype: ValueType['dtype'];
  gpu: GpuType;
  dims: number[];
  bytes: number;
  kind: TensorKind;
  /** Byte offset in the arena (activations, inputs, outputs) or in the weight buffer (weights). */
  offset: number;
  /**
   * Which arena or weight buffer holds it, when the plan has several (EnginePlan.arenaBuffers,
   * weightBuffers: the arena or the weights exceed one buffer's maximum size); absent: 0.
   */
  buffer?: number;
}

export interface PlannedDispatch extends Omit<DispatchDesc, 'bindings'> {
  /** Per binding: a tensor name (arena or weights), or a kernel weight / scratch of the layer. */
  bindings: ({ tensor: string } | { kernelWeight: number } | { scratch: number })[];
}

/** A tensor as a layer's kernel saw it: its KernelContext descriptor (TensorDesc). */
export interface SourceTensor {
  dtype: DType;
  gpu: GpuType;
  dims: number[];
  /** The value, when it was known at build time (the kernel may have read it). */
  constant?: Tensor;
}

/**
 * What produced a layer, recorded so that a loader can produce it again and accept the file's
 * dispatches only if they are what the kernel gives (src/runtime/plan-verify.ts, docs/engine-file.md).
 */
export interface LayerSource {
  /** The operator node the layer runs (after graph optimization); absent for a storage conversion. */
  node?: {
    name: string;
    domain: string;
    opType: string;
    opset: number;
    attrs: Map<string, Attr>;
    /** Value names ('' for an absent optional), as kernels see `ctx.node.inputs/outputs`. */
    inputs: string[];
    outputs: string[];
  };
  /** A builder-made storage conversion (FP16 engines): input 0 copied from one GPU type to the other. */
  convert?: { from: GpuType; to: GpuType };
  /** The kernel context's inputs (undefined: absent optional input) and outputs. */
  inputs: (SourceTensor | undefined)[];
  outputs: SourceTensor[];
  /** Per input / output index, the plan tensor its bindings refer to ('' where nothing binds it). */
  inputTensors: string[];
  outputTensors: string[];
}

export interface PlannedLayer {
  /** Layer name (the node's, or its parts' joined by '+' once fused). */
  name: string;
  opTypes: string[];
  kernel: string;
  /** Arithmetic/storage precision of the layer (int8: an integer layer, int8 x int8 -> int32). */
  precision: 'fp32' | 'fp16' | 'int8';
  inputs: string[];
  outputs: string[];
  dispatches: PlannedDispatch[];
  /** Kernel-provided constant arrays (re-laid-out weights), stored in the weight buffer. */
  kernelWeights: { offset: number; bytes: number; data: GpuArray; buffer?: number }[];
  /** Byte offsets and sizes of the layer's scratch buffers inside the context's scratch buffer. */
  scratch: { offset: number; bytes: number }[];
  /**
   * When the builder timed this layer's candidates (auto-tuning): how many it considered and the
   * measured GPU time of the chosen one (`kernel`), in milliseconds.
   */
  tactic?: { candidates: number; ms?: number };
  /** The plugin whose kernel the layer runs (absent for built-in operators). */
  plugin?: { name: string; version: string };
  /** What produced the layer (engine files need it: the loader re-derives the dispatches from it). */
  source?: LayerSource;
}

export interface EngineIO {
  name: string;
  dtype: ValueType['dtype'];
  dims: number[];
  gpu: GpuType;
}

export interface EnginePlan {
  layers: PlannedLayer[];
  tensors: Map<string, PlannedTensor>;
  inputs: EngineIO[];
  outputs: EngineIO[];
  /** Outputs known at build time (folded); returned as they are. */
  constantOutputs: Map<string, Tensor>;
  /** Graph output name -> the tensor that holds its bytes (differs for outputs that are views). */
  outputRoots: Map<string, string>;
  /** The arena's bytes (with several arena buffers: their sum). */
  arenaBytes: number;
  naiveActivationBytes: number;
  /** The weights' bytes (with several weight buffers: their sum). */
  weightBytes: number;
  /**
   * Each arena buffer's bytes, present when the arena spans several buffers (it exceeds the most
   * one buffer may have, DeviceCaps.maxBufferBytes); no tensor straddles two (docs/big-tensors.md).
   */
  arenaBuffers?: number[];
  /** Each weight buffer's bytes, present when the weights span several buffers. */
  weightBuffers?: number[];
  /** Bytes of the scratch buffer each context needs (the largest layer's scratch). */
  scratchBytes: number;
  /** The weights, already converted to GPU types, by tensor name. */
  weightData: Map<string, GpuArray>;
  paramMode: 'spec' | 'push';
  /**
   * BuilderConfig.cooperativeMatrix the device caps were derived with (capsOf), so that a loader
   * derives the same caps; absent: 'auto'.
   */
  cooperativeMatrix?: CoopMatChoice;
  alignment: number;
  stats: { onnxNodes: number; folded: number; views: number; layers: number };
  /** The plugins the engine's layers run (their SPIR-V and parameters are in the plan already). */
  plugins?: PluginRecord[];
  /** Present when the engine was built refittable (BuilderConfig.refittable). */
  refit?: RefitRecord;
  /**
   * Present when the engine was built with optimization profiles (BuilderConfig.profiles): the
   * plan above is the first profile's opt shapes; this holds what a run at another shape needs.
   */
  profiles?: ProfileRecord;
}

/** The shapes an optimization profile allows for one input: every dim within [min, max]; tuned at opt. */
export interface ProfileRange {
  min: number[];
  opt: number[];
  max: number[];
}

/** One optimization profile of an engine. */
export interface PlannedProfile {
  /** Per input whose shape may vary, its range; other inputs have the plan's fixed shape. */
  inputs: Record<string, ProfileRange>;
  /** Per layer name, the kernel (tactic) chosen at the opt shapes; every other shape runs it too. */
  kernels: Record<string, string>;
  /** The largest arena and scratch over the profile's min, opt and max shapes (contexts allocate this). */
  arenaBytes: number;
  scratchBytes: number;
}

/**
 * The build options a plan is made again with (a profile shape's plan, a refit): what shapes the
 * plan besides the model itself.
 */
export interface ReplanConfig {
  inputShapes?: Record<string, number[]>;
  paramMode?: 'spec' | 'push';
  fusion?: boolean;
  fp16?: boolean;
  fp32Layers?: string[];
  /** BuilderConfig.cooperativeMatrix: the replan sees the same matrix-unit tactics. */
  cooperativeMatrix?: 'auto' | 'nv' | 'khr' | 'off' | 'emulate';
  /** BuilderConfig.limits: the replan splits big tensors and bins buffers as the build did. */
  limits?: { maxStorageBufferRange?: number; maxBufferBytes?: number };
}

/**
 * What a run at a shape other than the plan's needs (docs/dynamic-shapes.md): the source model and
 * the build options (the phases run again for the concrete shapes, with the profile's kernels
 * fixed: no tuning), and the shaders those shapes need beyond the plan's own dispatches (compiled
 * at build for each profile's min and max shapes; ShaderTable.profileModules holds their SPIR-V).
 */
export interface ProfileRecord {
  profiles: PlannedProfile[];
  /** The source model as ONNX bytes (before any rewriting). */
  model: Uint8Array;
  /** The build options that shape the plan (inputShapes: the fixed shapes of the other inputs). */
  config: ReplanConfig;
  /** Shaders of the other profile shapes, as their dispatches name them (params: their word count). */
  shaders: ProfileShader[];
}

/** A shader a profile shape needs that the plan's dispatches do not run. */
export interface ProfileShader {
  shader: string;
  source?: string;
  defines?: Record<string, string | number>;
  /** The dispatch's parameter word count (the push-constant mode declares it in the GLSL). */
  paramCount: number;
}

/** A plugin an engine uses, by name and version (`vkrt inspect` lists them). */
export interface PluginRecord {
  name: string;
  version: string;
  /** The operator it implements ('' for the default ONNX domain). */
  domain: string;
  opType: string;
  /** The engine layers that run its kernels. */
  layers: string[];
}

/** A weight a refittable engine exposes, by its ONNX initializer name. */
export interface RefitWeight {
  name: string;
  dtype: ValueType['dtype'];
  dims: number[];
}

/**
 * What a refittable engine keeps to apply new weights exactly as a rebuild would: the source graph
 * and the build options, so the builder's weight transforms (BN folding, re-layout, FP16
 * conversion, constant folding) run again on the new values (docs/plugins.md, Refit).
 */
export interface RefitRecord {
  /** The refittable weights: the source model's floating-point initializers. */
  weights: RefitWeight[];
  /** Their current values (as built, or as last refitted). */
  values: Map<string, Tensor>;
  /** The source model as ONNX bytes, the refittable initializers left out (they are in `values`). */
  model: Uint8Array;
  /** The build options that shape the plan. */
  config: ReplanConfig;
}

/** The SPIR-V modules of an engine and, per layer and dispatch, which module it runs. */
export interface ShaderTable {
  modules: Uint32Array[];
  dispatchModule: number[][];
  /** Per EnginePlan.profiles.shaders entry, the index of its SPIR-V module. */
  profileModules?: number[];
}

/** A built engine before it is loaded on a device: the plan and the SPIR-V of its dispatches. */
export interface BuiltEngine {
  plan: EnginePlan;
  shaders: ShaderTable;
}
