/**
 * Maps errors thrown by the native addon onto vkrt's typed errors (src/errors.ts).
 */
import { DeviceLostError, DisposedError, GpuTimeoutError, InputError, VkrtError, VulkanError } from '../errors';
import type { NativeError } from '../native';

/** A GLSL source that libshaderc could not compile. `log` holds the compiler's full output. */
export class GlslCompileError extends InputError {
  readonly log: string;
  readonly shaderName: string;
  constructor(message: string, log: string, shaderName: string) {
    super(`${message}\n${log}`.trimEnd());
    this.log = log;
    this.shaderName = shaderName;
  }
}

/** A call that the object's state forbids right now (for example reading timestamps in flight). */
export class GpuStateError extends VkrtError {
  constructor(message: string) {
    super('GPU_STATE', message);
  }
}

/** Converts an error thrown by the addon; anything else passes through unchanged. */
export function translateNativeError(e: unknown, what = 'object', shaderName = ''): unknown {
  if (!(e instanceof Error) || e instanceof VkrtError) return e;
  const n = e as NativeError;
  switch (n.vkrtKind) {
    case 'vulkan':
      return new VulkanError(n.message, n.call, n.result);
    case 'lost':
      // The submission that ran past the limit is a GpuTimeoutError; later refusals are DeviceLostErrors.
      if (n.result === 'VK_TIMEOUT') return new GpuTimeoutError(n.message, n.timeoutMs ?? 0, n.call, n.result);
      return new DeviceLostError(n.message, n.reason === 'timeout' ? 'timeout' : 'lost', n.call || undefined, n.result);
    case 'argument':
      return new InputError(n.message);
    case 'disposed':
      // The addon names the object ("Pipeline was used after dispose()"); prefer that.
      return new DisposedError(/^(\w+) was used after dispose/.exec(n.message)?.[1] ?? what);
    case 'state':
      return new GpuStateError(n.message);
    case 'compile':
      return new GlslCompileError(n.message, n.log ?? '', shaderName);
    case 'internal':
      return new VulkanError(`internal error in the native layer: ${n.message}`);
    default:
      return e;
  }
}

/** Runs a native call and translates what it throws. */
export function callNative<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw translateNativeError(e, what);
  }
}
