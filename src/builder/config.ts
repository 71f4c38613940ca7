/** What a build is asked to do (TensorRT's IBuilderConfig). */
import type { OpRegistry } from '../ops/registry';
import type { PluginDef } from '../plugins/types';
import type { BuildProgress } from '../kernel/progress';
import type { KernelSelection } from './selection';
import type { Int8Calibrator } from './quant/calibrator';
import type { Tensor } from '../ir/tensor';

export type { BuildProgress } from '../kernel/progress';

/**
 * One optimization profile (TensorRT's IOptimizationProfile): per input whose shape may vary, the
 * smallest, the tuned-for and the largest shape. An engine runs any shape with every dimension
 * within [min, max] of one of its profiles (docs/dynamic-shapes.md).
 */
export type OptimizationProfile = Record<string, { min: readonly number[]; opt: readonly number[]; max: readonly number[] }>;

export interface BuilderConfig {
  /** Concrete shapes for inputs with symbolic or unknown dims (trtexec's --shapes). */
  inputShapes?: Record<string, readonly number[]>;
  /**
   * Optimization profiles (trtexec's --minShapes/--optShapes/--maxShapes): the engine runs any
   * shape inside one of them, tactics chosen at opt, memory for max. Every profile names the same
   * inputs; inputs no profile names take their shape from inputShapes or the model. The parameter
   * mode defaults to 'push' (one pipeline per shader for every shape). See docs/dynamic-shapes.md.
   */
  profiles?: readonly OptimizationProfile[];
  /**
   * How kernels receive shape facts: 'spec' (specialization constants, the default: fastest) or
   * 'push' (push constants: one pipeline per shader whatever the shapes).
   */
  paramMode?: 'spec' | 'push';
  /** Run the graph optimizer (fusions, simplifications) before planning; default true. */
  fusion?: boolean;
  /** Build FP16 layers where the device and the layer allow it (trtexec's --fp16; docs/fp16.md). */
  fp16?: boolean;
  /**
   * INT8 layers (trtexec's --int8; docs/int8.md): a model with Q/DQ pairs (explicit quantization)
   * builds its integer layers from them; a float model is calibrated first with `calibrator` (or
   * its cache), Q/DQ pairs inserted, then built the same way. Layers without an integer
   * implementation run in FP32 (FP16 too with `fp16`).
   */
  int8?: boolean;
  /**
   * Hold int8/uint8 activations one byte per element where the device has 8-bit storage buffers
   * and every kernel that writes or reads the tensor takes bytes (docs/int8.md). Off by default:
   * on an H200 the int8 layers ran 2-4x slower on byte activations than on int32 ones
   * (bench/gpu/int8-check.ts), so int8/uint8 tensors are held as int32 (4 bytes each) unless asked.
   */
  int8Storage?: boolean;
  /** The INT8 calibrator (TensorRT's IInt8Calibrator; api's createCalibrator makes one from batches). */
  calibrator?: Int8Calibrator;
  /**
   * FP16 range check (asynchronous builds with fp16; docs/fp16.md): the FP32 network runs first on
   * these inputs (true, the default: two batches of seeded values in [-1, 1)) and every layer whose
   * output's |x| comes within a factor 2 of FP16's largest value (65504) stays in FP32, the build log
   * saying which and why. false: no check.
   */
  fp16RangeCheck?: boolean | readonly (Record<string, Tensor> | Map<string, Tensor>)[];
  /**
   * Layers pinned to FP32 in FP16 engines (TensorRT's layer precision constraints): each entry
   * matches a node name, an output tensor name or an op type.
   */
  fp32Layers?: readonly string[];
  /**
   * How each layer's implementation is chosen among its candidates (selection.ts); default: the
   * heuristic order the operator gives.
   */
  selection?: KernelSelection;
  /**
   * Auto-tuning (trtexec's --builderOptimizationLevel, 0-5, see builder/tuning/tune.ts): how many of
   * each layer's candidates are timed on the device. Timing needs an asynchronous build
   * (buildEngineAsync, Builder.buildEngineAsync, `vkrt exec`), default 3 there; a synchronous build
   * does not time, it uses the timing cache where it knows every considered candidate.
   */
  optimizationLevel?: number;
  /**
   * Cooperative matrices (matrix units) for the FP16 GEMM kernels (docs/coopmat.md): 'auto' (the
   * default) offers them as candidates where the device lists a usable combination, through
   * VK_NV_cooperative_matrix where the driver has it, else VK_KHR_cooperative_matrix; 'nv' or 'khr'
   * only that extension; 'off' never. 'emulate' is a testing aid: the same kernels with the matrix
   * operations done by plain loops, offered on any FP16 device (slow; it checks their tiling,
   * indexing and epilogues where no matrix units exist, as on lavapipe).
   */
  cooperativeMatrix?: 'auto' | 'nv' | 'khr' | 'off' | 'emulate';
  /** A timing cache file (trtexec's --timingCacheFile): read before tuning, merged and written after. */
  timingCache?: string;
  registry?: OpRegistry;
  /**
   * Plugins for this build (besides those registered with `plugins.register`): definitions, or
   * paths of modules that export them (as `vkrt exec --plugins=./my-plugin.js`). See docs/plugins.md.
   */
  plugins?: readonly (PluginDef | string)[];
  /**
   * Build an engine whose weights can be replaced later (`engine.refit`, `engine.refitFromOnnx`;
   * trtexec's --refit). The engine keeps its source graph and weights for that (a larger engine file).
   */
  refittable?: boolean;
  /**
   * Plan for lower buffer limits than the device's (docs/big-tensors.md): `maxStorageBufferRange`,
   * the most bytes one binding spans (larger tensors are split into pieces), and `maxBufferBytes`,
   * the most bytes one buffer holds (a larger arena or weight set spans several buffers). For
   * headroom, and for tests that exercise the splitting on small tensors.
   */
  limits?: { maxStorageBufferRange?: number; maxBufferBytes?: number };
  /**
   * Receives build warnings (a dynamic input dimension defaulted to 1, ...); default:
   * process.emitWarning(message, 'VkrtWarning'). Each also goes to `log` as a 'warning: ' line.
   */
  warn?(message: string): void;
  /**
   * Host fallback (docs/dynamic-shapes.md): nodes the GPU cannot run (strings, sequences, no
   * kernel, a shape no build can know) run on the CPU reference between GPU stages, each listed in
   * the build log. Needs a staged engine (api/staged.ts: buildStagedEngine, InferenceSession,
   * `vkrt exec/compare/conformance --hostFallback`); buildEngine's single GPU engine refuses it.
   * Default false: such a node fails the build with an UnsupportedError naming it.
   */
  hostFallback?: boolean;
  /** Receives build log lines (kernel choices, folding, memory). */
  log?(line: string): void;
  /** Receives the build's progress: each phase as it starts, and each layer of the long ones. */
  progress?(p: BuildProgress): void;
}
