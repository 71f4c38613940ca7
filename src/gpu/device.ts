import { DisposedError, InputError } from '../errors';
import { loadNative, type SpirvFacts, type NativeDevice, type NativeDeviceInfo, type NativeOpenDeviceInfo } from '../native';
import { BufferKind, GpuBuffer } from './buffer';
import { callNative, translateNativeError } from './errors';
import { packSpecialization, Pipeline, PipelineDesc } from './pipeline';
import { Command, Program, toNativeCommands } from './program';
import { shaderIncludeDirs } from './shaders';

/** Capabilities of a Vulkan device (what `vkrt devices` prints). */
export type DeviceInfo = NativeDeviceInfo;
/** Capabilities of an open device plus its state. */
export type OpenDeviceInfo = NativeOpenDeviceInfo;

export interface DeviceOptions {
  /** Index from {@link Device.list}; default: discrete GPU, then integrated, virtual, CPU. */
  index?: number;
  /** Enable the Khronos validation layer and collect its messages ({@link Device.drainValidationMessages}). */
  validation?: boolean;
  /** A blob from {@link Device.pipelineCacheData}; ignored when it was made by another device or driver. */
  pipelineCache?: Uint8Array;
  /**
   * Testing aid: never map `device` buffers, so writes and reads take the staging-copy path a
   * discrete GPU uses, also on lavapipe and integrated GPUs.
   */
  forceStaging?: boolean;
}

export interface GlslOptions {
  /** Shown in compiler messages. */
  name?: string;
  /** `#define NAME VALUE` lines (values as strings or numbers). */
  defines?: Record<string, string | number | boolean>;
  /** Searched for `#include`; shaders/common is always searched last. */
  includeDirs?: string[];
  targetEnv?: 'vulkan1.1' | 'vulkan1.2' | 'vulkan1.3';
  optimize?: boolean;
}

/**
 * A Vulkan device opened for compute: all queues of its best compute family, a pipeline cache,
 * and the factory of buffers, pipelines and programs.
 *
 * Lifetime: {@link Device.dispose} disposes every buffer, pipeline and program created from it,
 * then the device (after in-flight submissions complete). Idempotent.
 */
export class Device {
  /** Capabilities and state. */
  readonly info: OpenDeviceInfo;
  private readonly children = new Set<WeakRef<{ dispose(): void }>>();

  private constructor(private readonly native: NativeDevice) {
    this.info = native.info();
  }

  /** All Vulkan devices with their capabilities (`isDefault` marks the one {@link create} picks). */
  static list(options: { validation?: boolean } = {}): DeviceInfo[] {
    const addon = loadNative();
    return callNative('Device', () => addon.listDevices(!!options.validation));
  }

  /**
   * Opens a device.
   * @throws VulkanError when Vulkan or the addon is missing (the message says how to install it),
   *   InputError for a bad index.
   */
  static create(options: DeviceOptions = {}): Device {
    const addon = loadNative();
    const native = callNative('Device', () => new addon.Device(options));
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
        includeDirs: [...(options.includeDirs ?? []), ...shaderIncludeDirs()],
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

  /** Same as {@link Device.compileGlsl}. */
  compileGlsl(source: string, options: GlslOptions = {}): Uint32Array {
    return Device.compileGlsl(source, options);
  }

  private track<T extends { dispose(): void }>(child: T): T {
    this.children.add(new WeakRef(child));
    return child;
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
    if (!desc || !(desc.spirv instanceof Uint32Array)) throw new InputError('createPipeline: spirv must be a Uint32Array');
    const specialization = packSpecialization(desc.specialization ?? []);
    const p = callNative('Device', () =>
      native.createPipeline({
        spirv: desc.spirv,
        name: desc.name,
        entryPoint: desc.entryPoint,
        bindingCount: desc.bindingCount,
        pushConstantSize: desc.pushConstantSize ?? 0,
        specialization,
      }),
    );
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

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Disposes every object created from this device, then the device. Idempotent. */
  dispose(): void {
    for (const ref of this.children) ref.deref()?.dispose();
    this.children.clear();
    this.native.dispose();
  }
}
