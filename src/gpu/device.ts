import { DisposedError, InputError } from '../errors';
import { loadNative, type SpirvFacts, type NativeDevice, type NativeDeviceHealth, type SpirvValidation, type NativeDeviceInfo, type NativeOpenDeviceInfo, type NativePipeline } from '../native';
import { BufferKind, GpuBuffer } from './buffer';
import { type CoopMatProperty, decodeCoopMatProperty } from './coopmat';
import { callNative, translateNativeError } from './errors';
import { packSpecialization, Pipeline, PipelineDesc } from './pipeline';
import { Command, Program, toNativeCommands } from './program';
import { shaderIncludes } from './shaders';

/** Capabilities of a Vulkan device (what `vkrt devices` prints); cooperative-matrix types by name. */
export type DeviceInfo = Omit<NativeDeviceInfo, 'cooperativeMatrixProperties'> & { cooperativeMatrixProperties: CoopMatProperty[] };
/** Capabilities of an open device plus its state. */
export type OpenDeviceInfo = Omit<NativeOpenDeviceInfo, 'cooperativeMatrixProperties'> & { cooperativeMatrixProperties: CoopMatProperty[] };

/** The addon's device info with the cooperative-matrix numbers named (gpu/coopmat.ts). */
function decodeInfo<T extends NativeDeviceInfo>(i: T): Omit<T, 'cooperativeMatrixProperties'> & { cooperativeMatrixProperties: CoopMatProperty[] } {
  return { ...i, cooperativeMatrixProperties: (i.cooperativeMatrixProperties ?? []).map(decodeCoopMatProperty) };
}
/** Whether an open device can still run work ({@link Device.health}). */
export type DeviceHealth = NativeDeviceHealth;

/** GPU timeout when neither the `gpuTimeoutMs` option nor `VKRT_GPU_TIMEOUT_MS` sets one. */
export const DEFAULT_GPU_TIMEOUT_MS = 60000;
const MAX_GPU_TIMEOUT_MS = 2 ** 40;

/**
 * The GPU timeout a new device gets: the option, else $VKRT_GPU_TIMEOUT_MS, else
 * {@link DEFAULT_GPU_TIMEOUT_MS}. Fractions round up to whole milliseconds.
 * @throws InputError for a value that is not a number of milliseconds from 1 to 2^40.
 */
export function resolveGpuTimeoutMs(option?: number): number {
  const check = (v: number, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > MAX_GPU_TIMEOUT_MS)
      throw new InputError(`${what} must be a number of milliseconds from 1 to 2^40, got ${String(v)}`);
    return Math.ceil(v);
  };
  if (option !== undefined) return check(option, 'gpuTimeoutMs');
  const env = process.env.VKRT_GPU_TIMEOUT_MS;
  if (env !== undefined && env.trim() !== '') return check(Number(env), `VKRT_GPU_TIMEOUT_MS ('${env}')`);
  return DEFAULT_GPU_TIMEOUT_MS;
}

export interface DeviceOptions {
  /** Index from {@link Device.list}; default: $VKRT_DEVICE, else discrete GPU, then integrated, virtual, CPU. */
  index?: number;
  /**
   * Enable the Khronos validation layer and collect its messages ({@link Device.drainValidationMessages});
   * default: on when VKRT_VALIDATION=1.
   */
  validation?: boolean;
  /** A blob from {@link Device.pipelineCacheData}; ignored when it was made by another device or driver. */
  pipelineCache?: Uint8Array;
  /**
   * Testing aid: never map `device` buffers, so writes and reads take the staging-copy path a
   * discrete GPU uses, also on lavapipe and integrated GPUs.
   */
  forceStaging?: boolean;
  /**
   * GPU timeout in milliseconds: a submission whose fence has not signalled after this long fails
   * with {@link GpuTimeoutError} and the device becomes lost (every later use throws
   * {@link DeviceLostError}; its memory is abandoned because the job may still run). Default:
   * $VKRT_GPU_TIMEOUT_MS, else 60000. Staging copies (buffer reads and writes that are not mapped)
   * block the calling thread for at most this long.
   */
  gpuTimeoutMs?: number;
  /**
   * Robust buffer access (core `robustBufferAccess`, plus VK_EXT_robustness2's `robustBufferAccess2`
   * where the device has it): a shader's out-of-bounds reads and writes stay inside the bound
   * buffer instead of reaching other memory. For shaders from files that are not trusted
   * (docs/engine-file.md measures what it costs). Throws InputError on a device without it.
   */
  robustBufferAccess?: boolean;
}

export interface GlslOptions {
  /** Shown in compiler messages. */
  name?: string;
  /** `#define NAME VALUE` lines (values as strings or numbers). */
  defines?: Record<string, string | number | boolean>;
  /** Searched for `#include`; vkrt's shaders/common headers (embedded) are always searched last. */
  includeDirs?: string[];
  targetEnv?: 'vulkan1.1' | 'vulkan1.2' | 'vulkan1.3';
  optimize?: boolean;
}

/** What the device tracks of each object it created. */
interface Child {
  readonly disposed: boolean;
  dispose(): void;
}

const PRUNE_FLOOR = 64;

/**
 * Options with the environment's defaults where the caller gave none: VKRT_DEVICE (index) and
 * VKRT_VALIDATION=1 (the Khronos validation layer).
 */
function withEnvironment(options: DeviceOptions): DeviceOptions {
  const o = { ...options };
  const dev = process.env.VKRT_DEVICE;
  if (o.index === undefined && dev !== undefined && dev !== '') {
    const n = Number(dev);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`VKRT_DEVICE must be a device index (see \`vkrt devices\`), got '${dev}'`);
    o.index = n;
  }
  if (o.validation === undefined && process.env.VKRT_VALIDATION === '1') o.validation = true;
  return o;
}

/** The addon's form of a pipeline description (checked: spirv must be SPIR-V words). */
function nativePipelineDesc(desc: PipelineDesc) {
  if (!desc || !(desc.spirv instanceof Uint32Array)) throw new InputError('createPipeline: spirv must be a Uint32Array');
  return {
    spirv: desc.spirv,
    name: desc.name,
    entryPoint: desc.entryPoint,
    bindingCount: desc.bindingCount,
    pushConstantSize: desc.pushConstantSize ?? 0,
    specialization: packSpecialization(desc.specialization ?? []),
  };
}

/**
 * A Vulkan device opened for compute: all queues of its best compute family, a pipeline cache,
 * and the factory of buffers, pipelines and programs.
 *
 * Lifetime: {@link Device.dispose} disposes every buffer, pipeline and program created from it,
 * then the device (after in-flight submissions complete or time out). Idempotent.
 */
export class Device {
  /** Capabilities and state. */
  readonly info: OpenDeviceInfo;
  /**
   * What dispose() must dispose: weak references to the objects created here. Pruned of disposed
   * and collected objects whenever it doubles, so it stays within twice the live objects (plus a
   * small floor) however many engines are loaded and disposed on the device.
   */
  private readonly children = new Set<WeakRef<Child>>();
  private pruneAt = PRUNE_FLOOR;
  private holders = 0;

  private constructor(private readonly native: NativeDevice) {
    this.info = decodeInfo(native.info());
  }

  /** All Vulkan devices with their capabilities (`isDefault` marks the one {@link create} picks). */
  static list(options: { validation?: boolean } = {}): DeviceInfo[] {
    const addon = loadNative();
    return callNative('Device', () => addon.listDevices(!!options.validation)).map(decodeInfo);
  }

  /**
   * Opens a device.
   * @throws VulkanError when Vulkan or the addon is missing (the message says how to install it),
   *   InputError for a bad index.
   */
  static create(options: DeviceOptions = {}): Device {
    const addon = loadNative();
    const o = withEnvironment(options);
    const gpuTimeoutMs = resolveGpuTimeoutMs(o.gpuTimeoutMs);
    const native = callNative('Device', () => new addon.Device({ ...o, gpuTimeoutMs }));
    return new Device(native);
  }

  /** Compiles GLSL compute source to SPIR-V with libshaderc (no device needed). */
  static compileGlsl(source: string, options: GlslOptions = {}): Uint32Array {
    const addon = loadNative();
    const defines = Object.entries(options.defines ?? {}).map(([k, v]): [string, string] => [k, String(v)]);
    const name = options.name ?? 'kernel.comp';
    try {
      return addon.compileGlsl(source, {
        name,
        defines,
        includeDirs: options.includeDirs ?? [],
        includeSources: shaderIncludes(),
        targetEnv: options.targetEnv,
        optimize: options.optimize,
      });
    } catch (e) {
      throw translateNativeError(e, 'compileGlsl', name);
    }
  }

  /** What a SPIR-V module declares (bindings, push constants, specialization constant ids). */
  static reflectSpirv(spirv: Uint32Array): SpirvFacts {
    const addon = loadNative();
    try {
      return addon.reflectSpirv(spirv);
    } catch (e) {
      throw translateNativeError(e, 'reflectSpirv');
    }
  }

  /**
   * SPIRV-Tools' validator on a module (as `spirv-val --target-env vulkan1.1` would run it) and the
   * module's workgroup size. Never throws for an invalid module: `valid` and `message` say why.
   */
  static validateSpirv(spirv: Uint32Array, targetEnv: 'vulkan1.1' | 'vulkan1.2' | 'vulkan1.3' = 'vulkan1.1'): SpirvValidation {
    const addon = loadNative();
    try {
      return addon.validateSpirv(spirv, targetEnv);
    } catch (e) {
      throw translateNativeError(e, 'validateSpirv');
    }
  }

  /** Same as {@link Device.compileGlsl}. */
  compileGlsl(source: string, options: GlslOptions = {}): Uint32Array {
    return Device.compileGlsl(source, options);
  }

  private track<T extends Child>(child: T): T {
    this.children.add(new WeakRef(child));
    if (this.children.size >= this.pruneAt) {
      for (const ref of this.children) {
        const c = ref.deref();
        if (!c || c.disposed) this.children.delete(ref);
      }
      this.pruneAt = Math.max(PRUNE_FLOOR, 2 * this.children.size);
    }
    return child;
  }

  /** @internal Size of the list of created objects (for the soak test of repeated engine loads). */
  get trackedChildren(): number {
    return this.children.size;
  }

  private alive(): NativeDevice {
    if (this.native.disposed) throw new DisposedError('Device');
    return this.native;
  }

  /**
   * A storage buffer of `size` bytes.
   * @throws InputError for size 0 or over the device's limits; VulkanError when out of memory.
   */
  createBuffer(size: number, kind: BufferKind = 'device'): GpuBuffer {
    const native = this.alive();
    return this.track(new GpuBuffer(callNative('Device', () => native.createBuffer(size, kind))));
  }

  /**
   * A compute pipeline. The SPIR-V is checked against the description first: bindings, push-constant
   * block size and specialization ids must agree.
   */
  createPipeline(desc: PipelineDesc): Pipeline {
    const native = this.alive();
    const nd = nativePipelineDesc(desc);
    return this.track(new Pipeline(callNative('Device', () => native.createPipeline(nd))));
  }

  /**
   * {@link createPipeline} with the driver's compile on a worker thread: drivers that compile on the
   * CPU (lavapipe) leave the event loop free meanwhile. Same checks and errors, as a rejection.
   */
  async createPipelineAsync(desc: PipelineDesc): Promise<Pipeline> {
    const native = this.alive();
    const nd = nativePipelineDesc(desc);
    let p: NativePipeline;
    try {
      p = await native.createPipelineAsync(nd);
    } catch (e) {
      throw translateNativeError(e, 'Device');
    }
    if (this.native.disposed) {
      p.dispose(); // the device was disposed while the pipeline compiled
      throw new DisposedError('Device');
    }
    return this.track(new Pipeline(p));
  }

  /** Records `commands` once into a program that can be submitted many times. */
  createProgram(commands: readonly Command[]): Program {
    const native = this.alive();
    const cmds = toNativeCommands(commands);
    const p = callNative('Device', () => native.createProgram(cmds));
    return this.track(new Program(p, this.info));
  }

  /** The pipeline cache's blob; pass it as `pipelineCache` to {@link Device.create} later. */
  pipelineCacheData(): Uint8Array {
    const native = this.alive();
    return callNative('Device', () => native.pipelineCacheData());
  }

  /** Validation-layer messages collected since the last call (empty without `validation`). */
  drainValidationMessages(): string[] {
    return callNative('Device', () => this.alive().drainValidationMessages());
  }

  /**
   * Whether the device can still run work: `lost` once the driver reported VK_ERROR_DEVICE_LOST or
   * a submission ran past the GPU timeout (then also `hung`); `reason` names the call.
   */
  health(): DeviceHealth {
    return callNative('Device', () => this.alive().health());
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /**
   * Holds the device open for one more holder (engines, builders and sessions that opened it hold
   * it this way); {@link release} drops the hold and disposes the device when no holder is left.
   */
  retain(): this {
    this.alive();
    this.holders++;
    return this;
  }

  /** Drops one {@link retain}; the last one disposes the device. */
  release(): void {
    if (this.holders > 0 && --this.holders === 0) this.dispose();
  }

  /** Disposes every object created from this device, then the device. Idempotent. */
  dispose(): void {
    for (const ref of this.children) ref.deref()?.dispose();
    this.children.clear();
    this.native.dispose();
  }
}
