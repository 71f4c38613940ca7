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
  constructor(message: string, node?: NodeRef) {
    super('UNSUPPORTED', node ? `${describeNode(node)}: ${message}` : message);
    this.node = node;
  }
}

/** A graph that breaks the ONNX rules: bad attribute, inconsistent shapes, missing input. */
export class GraphError extends VkrtError {
  readonly node?: NodeRef;
  constructor(message: string, node?: NodeRef) {
    super('GRAPH', node ? `${describeNode(node)}: ${message}` : message);
    this.node = node;
  }
}

/** Shape inference found shapes that do not fit together. */
export class ShapeError extends VkrtError {
  readonly node?: NodeRef;
  constructor(message: string, node?: NodeRef) {
    super('SHAPE', node ? `${describeNode(node)}: ${message}` : message);
    this.node = node;
  }
}

/** A caller passed something wrong: input names, dtypes, dims, options. */
export class InputError extends VkrtError {
  constructor(message: string) {
    super('INPUT', message);
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

/** An object was used after `dispose()`. */
export class DisposedError extends VkrtError {
  constructor(what: string) {
    super('DISPOSED', `${what} was used after dispose(); create a new one`);
  }
}
