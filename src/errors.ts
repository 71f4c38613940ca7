/**
 * Typed errors. Every error vkrt throws on purpose is a {@link VkrtError} with a stable `code`,
 * and names the file, node, tensor or Vulkan call it is about, plus what to do.
 */

/** Base class of all errors vkrt throws deliberately. */
export class VkrtError extends Error {
  /** Stable machine-readable code, e.g. `ONNX_PARSE`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A model file (or engine file) could not be read: truncated, malformed, hostile or missing. */
export class ParseError extends VkrtError {
  readonly file?: string;
  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super('PARSE', file ? `${file}: ${message}` : message, options);
    this.file = file;
  }
}

/** Identifies a graph node in error messages. */
export interface NodeRef {
  name: string;
  opType: string;
  domain?: string;
}

function describeNode(node: NodeRef): string {
  const op = node.domain ? `${node.domain}::${node.opType}` : node.opType;
  return `node '${node.name || '(unnamed)'}' (${op})`;
}

/** An operator, opset or attribute combination that vkrt does not implement. */
export class UnsupportedError extends VkrtError {
  readonly node?: NodeRef;
  /**
   * For a build that refuses several nodes at once: each one's first output and why (how the
   * staged engine's host fallback finds them in the source graph and reports them).
   */
  readonly refused?: readonly { output: string; reason: string }[];
  constructor(message: string, node?: NodeRef, refused?: readonly { output: string; reason: string }[]) {
    super('UNSUPPORTED', node ? `${describeNode(node)}: ${message}` : message);
    this.node = node;
    this.refused = refused;
  }
}

/** A graph that breaks the ONNX rules: bad attribute, inconsistent shapes, missing input. */
export class GraphError extends VkrtError {
  readonly node?: NodeRef;
  constructor(message: string, node?: NodeRef, code = 'GRAPH') {
    super(code, node ? `${describeNode(node)}: ${message}` : message);
    this.node = node;
  }
}

/**
 * Shapes that do not fit together (operands that do not broadcast) or that the build cannot know
 * (a value whose shape depends on run-time data). A GraphError with code SHAPE.
 */
export class ShapeError extends GraphError {
  constructor(message: string, node?: NodeRef) {
    super(message, node, 'SHAPE');
  }
}

/** A caller passed something wrong: input names, dtypes, dims, options. */
export class InputError extends VkrtError {
  constructor(message: string, code = 'INPUT') {
    super(code, message);
  }
}

/**
 * An input shape an engine cannot run: outside every optimization profile it was built with
 * (docs/dynamic-shapes.md), or not its fixed shape. Names the input, the shape and the ranges.
 */
export class ProfileShapeError extends InputError {
  readonly input: string;
  readonly shape: readonly number[];
  constructor(message: string, input: string, shape: readonly number[]) {
    super(message, 'SHAPE_OUT_OF_PROFILE');
    this.input = input;
    this.shape = [...shape];
  }
}

/**
 * A DeviceTensor given to a run does not fit the engine's input or output it stands for: allocated
 * on another device, or another dtype, shape or GPU storage type. `tensor` names the input/output.
 */
export class DeviceTensorError extends InputError {
  readonly tensor: string;
  readonly reason: 'device' | 'dtype' | 'shape' | 'storage';
  constructor(message: string, tensor: string, reason: 'device' | 'dtype' | 'shape' | 'storage') {
    super(message, 'DEVICE_TENSOR');
    this.tensor = tensor;
    this.reason = reason;
  }
}

/** A Vulkan call failed, or Vulkan is missing. `call` and `result` name the call and VkResult. */
export class VulkanError extends VkrtError {
  readonly call?: string;
  readonly result?: string;
  constructor(message: string, call?: string, result?: string) {
    super('VULKAN', message);
    this.call = call;
    this.result = result;
  }
}

/**
 * The device can no longer run work, and every later submit, copy or object creation on it fails
 * with this error. `reason`:
 * - `timeout`: a GPU job did not finish within the device's GPU timeout (`gpuTimeoutMs`, default 60 s,
 *   or `VKRT_GPU_TIMEOUT_MS`). The job may still be running, so the device's memory is abandoned,
 *   not freed; the process is unaffected. The job that exceeded the limit fails with
 *   {@link GpuTimeoutError}.
 * - `lost`: the driver reported `VK_ERROR_DEVICE_LOST` (GPU reset, driver crash).
 * What to do: dispose the device (and engines on it) and create a new `Device`.
 */
export class DeviceLostError extends VulkanError {
  readonly reason: 'timeout' | 'lost';
  constructor(message: string, reason: 'timeout' | 'lost', call?: string, result?: string) {
    super(message, call, result);
    this.reason = reason;
  }
}

/**
 * A GPU job did not finish within the device's GPU timeout (`vkWaitForFences` returned `VK_TIMEOUT`);
 * the device is now lost (see {@link DeviceLostError}). `timeoutMs` is the limit that was exceeded.
 */
export class GpuTimeoutError extends DeviceLostError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, call = 'vkWaitForFences', result = 'VK_TIMEOUT') {
    super(message, 'timeout', call, result);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Why an engine file was refused (see docs/engine-file.md):
 * - `foreign`: not a vkrt engine file (wrong magic);
 * - `version`: written by another engine-file format version or vkrt version;
 * - `truncated`: shorter than its header says;
 * - `corrupt`: checksum mismatch, or a section/manifest that does not decode to a valid engine;
 * - `device`: built for another GPU (vendor or device id differs);
 * - `driver`: built for the same GPU under another driver (driver version or pipeline-cache UUID differs);
 * - `signature`: a key was given to load with, and the file is not signed with it (or not signed).
 */
export type EngineFileReason = 'foreign' | 'version' | 'truncated' | 'corrupt' | 'device' | 'driver' | 'signature';

/** An engine file cannot be loaded; `reason` says which check refused it. Rebuild the engine from its model. */
export class EngineFileError extends VkrtError {
  readonly reason: EngineFileReason;
  readonly file?: string;
  constructor(reason: EngineFileReason, message: string, file?: string) {
    super('ENGINE_FILE', `${file ? `${file}: ` : ''}engine file ${reason === 'foreign' ? 'unrecognized' : reason === 'device' || reason === 'driver' ? `built for another ${reason}` : reason === 'signature' ? 'not signed with this key' : reason}: ${message}`);
    this.reason = reason;
    this.file = file;
  }
}

/** An object was used after `dispose()`. */
export class DisposedError extends VkrtError {
  constructor(what: string) {
    super('DISPOSED', `${what} was used after dispose(); create a new one`);
  }
}

/**
 * A plugin failed: its shape function or kernel threw, its GLSL does not compile, or its
 * definition is malformed. `plugin` names it (name and version), `node` the node it was running for.
 */
export class PluginError extends VkrtError {
  readonly plugin: string;
  readonly node?: NodeRef;
  constructor(plugin: string, message: string, node?: NodeRef, options?: { cause?: unknown }) {
    super('PLUGIN', `plugin ${plugin}${node ? `, ${describeNode(node)}` : ''}: ${message}`, options);
    this.plugin = plugin;
    this.node = node;
  }
}

/**
 * A refit was refused: the engine was not built refittable, a weight name, shape or dtype does not
 * match, or a new value would change the engine beyond its weights (a value folded into a kernel).
 */
export class RefitError extends VkrtError {
  constructor(message: string) {
    super('REFIT', `refit: ${message}`);
  }
}

/** A layer added to a network definition does not fit (shapes, weights, parameters); names the layer. */
export class NetworkError extends VkrtError {
  readonly layer?: string;
  constructor(message: string, layer?: { name: string; type: string }) {
    super('NETWORK', layer ? `layer '${layer.name}' (${layer.type}): ${message}` : message);
    this.layer = layer?.name;
  }
}

/**
 * A run produced NaN or Inf where checkFinite asked to be told (ExecutionContext.checkFinite):
 * names the first layer whose output held one (`layer`, undefined when an input already did) and
 * the tensor.
 */
export class NonFiniteError extends VkrtError {
  readonly layer?: string;
  readonly tensor: string;
  constructor(message: string, tensor: string, layer?: string) {
    super('NONFINITE', message);
    this.tensor = tensor;
    this.layer = layer;
  }
}
