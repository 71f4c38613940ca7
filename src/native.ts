/**
 * The only place the native addon is loaded (node-gyp-build's layout: build/Release/vkrt.node from a
 * source build, else prebuilds/<platform>-<arch>/node.napi.glibc.node shipped in the package; or
 * $VKRT_NATIVE), and the typed description of everything it exports. Nothing else in vkrt touches
 * the .node file.
 *
 * Loading never crashes the process: if the addon is missing or cannot be loaded (no
 * libvulkan.so.1, not built, wrong architecture), {@link nativeLoadError} holds one sentence that
 * says what is missing and the command that installs it, and {@link loadNative} throws a
 * {@link VulkanError} with that sentence. Code that does not use the GPU keeps working.
 */
import * as fs from 'fs';
import * as path from 'path';
import { VulkanError } from './errors';

/**
 * One cooperative-matrix combination as the driver lists it (vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR
 * or ...NV): sizes, VkComponentTypeKHR numbers of A, B, C and the result, a VkScopeKHR number.
 * src/gpu/coopmat.ts names the numbers.
 */
export interface NativeCoopMatProperty {
  extension: 'VK_KHR_cooperative_matrix' | 'VK_NV_cooperative_matrix';
  M: number;
  N: number;
  K: number;
  A: number;
  B: number;
  C: number;
  result: number;
  /** KHR only (false from the NV query). */
  saturatingAccumulation: boolean;
  scope: number;
}

/** Capabilities of one physical device, as reported by the addon (`vkrt devices --json`). */
export interface NativeDeviceInfo {
  /** Position in vkEnumeratePhysicalDevices; pass it as `index` to pick this device. */
  index: number;
  name: string;
  vendorId: number;
  deviceId: number;
  type: 'discrete' | 'integrated' | 'virtual' | 'cpu' | 'other';
  driverName: string;
  driverInfo: string;
  /** Decoded with the vendor's scheme (NVIDIA: 10.8.8.6 bits; others: Vulkan's major.minor.patch). */
  driverVersion: string;
  driverVersionRaw: number;
  apiVersion: string;
  apiVersionRaw: number;
  /** shaderFloat16 and storageBuffer16BitAccess. */
  fp16: boolean;
  /** shaderInt8 and storageBuffer8BitAccess. */
  int8: boolean;
  /** VK_KHR_shader_integer_dot_product (core in 1.3) feature. */
  int8DotProduct: boolean;
  /** 4x8-bit packed signed dot product is hardware accelerated. */
  int8DotProductAccelerated: boolean;
  /** Which of VK_KHR_cooperative_matrix, VK_NV_cooperative_matrix, VK_NV_cooperative_matrix2 exist. */
  cooperativeMatrix: string[];
  /**
   * The combinations the drivers list, KHR first; empty unless an extension's cooperativeMatrix
   * feature is present and compute shaders may use it (lavapipe: empty). The addon enables the
   * extensions and the feature when this is not empty.
   */
  cooperativeMatrixProperties: NativeCoopMatProperty[];
  /** The vulkanMemoryModel feature (GLSL's GL_NV_cooperative_matrix compiles to that memory model). */
  vulkanMemoryModel: boolean;
  subgroupSize: number;
  timestampPeriodNs: number;
  /** Of the compute queue family; 0 means that family cannot write timestamps. */
  timestampValidBits: number;
  computeFamily: number | null;
  /** Queues in the compute family vkrt uses (a compute-only family when there is one). */
  computeQueues: number;
  computeOnlyFamily: boolean;
  memoryHeaps: { size: number; deviceLocal: boolean }[];
  maxComputeWorkGroupCount: [number, number, number];
  maxComputeWorkGroupSize: [number, number, number];
  maxComputeWorkGroupInvocations: number;
  /** Bytes of shared (workgroup) memory one workgroup may declare. */
  maxComputeSharedMemorySize: number;
  maxStorageBufferRange: number;
  minStorageBufferOffsetAlignment: number;
  maxMemoryAllocationSize: number;
  /** The largest buffer the device creates (Vulkan 1.3 / VK_KHR_maintenance4); 0 where it does not say. */
  maxBufferSize: number;
  maxPushConstantsSize: number;
  pipelineCacheUUID: string;
  /** Has a compute queue and Vulkan >= 1.1. */
  usable: boolean;
  /** The device chosen when no index is given (discrete, then integrated, virtual, CPU). */
  isDefault: boolean;
}

/** Info of an open device: the capabilities plus its state. */
export interface NativeOpenDeviceInfo extends NativeDeviceInfo {
  pipelineCacheRestored: boolean;
  queueCount: number;
  /** The device's GPU timeout: the longest one submission may run before the device counts as hung. */
  gpuTimeoutMs: number;
  /**
   * The robust buffer access the device was opened with (`robustBufferAccess` option): 'robustness2'
   * (VK_EXT_robustness2: each binding's range bounds its accesses), 'core' (robustBufferAccess: the
   * whole buffer bounds them) or 'none'.
   */
  robustBufferAccess: 'none' | 'core' | 'robustness2';
}

/** Whether an open device can still run work (see DeviceLostError). */
export interface NativeDeviceHealth {
  /** VK_ERROR_DEVICE_LOST was seen, or a job ran past the GPU timeout. */
  lost: boolean;
  /** A job ran past the GPU timeout: the device's objects are abandoned, never destroyed. */
  hung: boolean;
  /** What happened, naming the call (empty while usable). */
  reason: string;
}

export type NativeBufferKind = 'device' | 'upload' | 'readback';

export interface NativeDeviceOptions {
  index?: number;
  validation?: boolean;
  pipelineCache?: ArrayBufferView;
  forceStaging?: boolean;
  /** Fence waits longer than this fail the submission and mark the device hung (default 60000). */
  gpuTimeoutMs?: number;
  robustBufferAccess?: boolean;
}

export interface NativeBuffer {
  readonly size: number;
  readonly kind: NativeBufferKind;
  /** Host-visible and persistently mapped (reads and writes are plain copies). */
  readonly mapped: boolean;
  readonly disposed: boolean;
  write(offset: number, data: ArrayBufferView): void;
  read(offset: number, size: number): Uint8Array;
  readInto(offset: number, target: ArrayBufferView): void;
  dispose(): void;
}

export interface NativePipelineDesc {
  spirv: Uint32Array;
  entryPoint?: string;
  name?: string;
  bindingCount: number;
  pushConstantSize?: number;
  /** (id, 32-bit value) pairs. */
  specialization?: Uint32Array;
}

export interface NativePipeline {
  readonly disposed: boolean;
  describe(): { name: string; bindingCount: number; pushConstantSize: number };
  dispose(): void;
}

export interface NativeBufferRange {
  buffer: NativeBuffer;
  offset: number;
  range: number;
}

export type NativeCommand =
  | {
      op: 'dispatch';
      pipeline: NativePipeline;
      bindings: NativeBufferRange[];
      push?: ArrayBufferView;
      groups: [number, number, number];
    }
  | { op: 'barrier' }
  | { op: 'timestamp'; index: number }
  | { op: 'copy'; src: { buffer: NativeBuffer; offset: number }; dst: { buffer: NativeBuffer; offset: number }; size: number }
  | { op: 'fill'; dst: { buffer: NativeBuffer; offset: number }; size: number; value: number };

export interface NativeProgram {
  readonly disposed: boolean;
  /**
   * Resolves when the GPU finished. The submission and the bounded fence wait run on the queue's own
   * runner thread (not libuv's pool); rejects with vkrtKind 'lost' after the device's GPU timeout.
   */
  submit(queue?: number): Promise<void>;
  timestamps(): BigUint64Array;
  describe(): { timestampCount: number; commandCount: number; busy: boolean };
  dispose(): void;
}

export interface NativeDevice {
  readonly disposed: boolean;
  info(): NativeOpenDeviceInfo;
  createBuffer(size: number, kind: NativeBufferKind): NativeBuffer;
  createPipeline(desc: NativePipelineDesc): NativePipeline;
  /** createPipeline's checks and Vulkan calls on a libuv worker thread. */
  createPipelineAsync(desc: NativePipelineDesc): Promise<NativePipeline>;
  createProgram(commands: NativeCommand[]): NativeProgram;
  pipelineCacheData(): Uint8Array;
  drainValidationMessages(): string[];
  health(): NativeDeviceHealth;
  dispose(): void;
}

export interface NativeGlslOptions {
  name?: string;
  defines?: [string, string][];
  includeDirs?: string[];
  /** In-memory headers ([name, source]), searched after includeDirs. */
  includeSources?: [string, string][];
  targetEnv?: 'vulkan1.1' | 'vulkan1.2' | 'vulkan1.3';
  optimize?: boolean;
}

/** Everything build/Release/vkrt.node exports. */
export interface NativeAddon {
  Device: new (options?: NativeDeviceOptions) => NativeDevice;
  listDevices(validation?: boolean): NativeDeviceInfo[];
  compileGlsl(source: string, options?: NativeGlslOptions): Uint32Array;
  reflectSpirv(spirv: Uint32Array, entryPoint?: string): SpirvFacts;
  validateSpirv(spirv: Uint32Array, targetEnv?: 'vulkan1.1' | 'vulkan1.2' | 'vulkan1.3'): SpirvValidation;
  napiVersion: number;
}

/** What native/spirv.cpp reads from a SPIR-V module (the one SPIR-V reflection of vkrt). */
export interface SpirvFacts {
  /** An OpEntryPoint GLCompute with the requested name exists. */
  compute: boolean;
  /** Storage-buffer bindings of descriptor set 0. */
  bindings: number[];
  pushConstantBytes: number;
  /** SpecId decorations of 32-bit specialization constants. */
  specIds: number[];
  /** What vkrt cannot bind (other descriptor kinds or sets). */
  problems: string[];
}

/** What native/spirv_validate.cpp says of a module: SPIRV-Tools' verdict and its workgroup size. */
export interface SpirvValidation {
  valid: boolean;
  /** The validator's first diagnostic ('' when valid). */
  message: string;
  /**
   * Per axis, the entry point's workgroup size: a literal (`spec: false`, `value`) or a
   * specialization constant (`spec: true`, its SpecId `id` and default `value`); null when the
   * module declares none (or is not valid).
   */
  workgroup: { spec: boolean; id: number; value: number }[] | null;
}

/**
 * Errors thrown by the addon carry `vkrtKind` ('argument' | 'vulkan' | 'lost' | 'disposed' | 'state' |
 * 'compile' | 'internal'), `call` and `result` for Vulkan failures, `reason` ('timeout' | 'lost')
 * and `timeoutMs` for a lost device, and `log` for compile errors.
 */
export interface NativeError extends Error {
  vkrtKind?: 'argument' | 'vulkan' | 'lost' | 'disposed' | 'state' | 'compile' | 'internal';
  call?: string;
  result?: string;
  reason?: 'timeout' | 'lost';
  timeoutMs?: number;
  log?: string;
}

let root: string | undefined;

/**
 * The package root: the nearest directory above this file whose package.json is vkrt's (src/ under
 * tsx, dist/ compiled, or a deeper build such as dist/bench/src).
 */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = path.resolve(__dirname, '..'); ; dir = path.dirname(dir)) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'vkrt') return (root = dir);
    } catch {
      // no package.json here: keep going up
    }
    if (path.dirname(dir) === dir) return (root = path.resolve(__dirname, '..'));
  }
}

/** The platforms a prebuilt addon ships for (prebuilds/<platform>-<arch>/, node-gyp-build's layout). */
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64'] as const;

/** True when vkrt runs from an installed package (inside node_modules) rather than a source checkout. */
function installed(): boolean {
  return packageRoot().split(path.sep).includes('node_modules');
}

/** The command that builds the addon from source, for this kind of install. */
export function rebuildCommand(): string {
  return installed() ? '`npm rebuild vkrt --build-from-source`' : '`npm run build:native`';
}

const BUILD_PACKAGES = 'cmake g++ make libvulkan-dev libshaderc-dev glslang-dev spirv-tools';

/**
 * Path of the addon: $VKRT_NATIVE if set, else what node-gyp-build finds under the package root
 * (build/Release/*.node from a source build, then prebuilds/<platform>-<arch>/*.node).
 * @throws Error (node-gyp-build's) when there is neither.
 */
export function addonPath(): string {
  if (process.env.VKRT_NATIVE) return process.env.VKRT_NATIVE;
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  return nodeGypBuild.resolve(packageRoot());
}

let addon: NativeAddon | undefined;
let loadError: string | undefined;
let tried = false;

/** Turns a dlopen failure into one sentence: what is missing and the command that fixes it. */
export function explainLoadFailure(file: string, message: string): string {
  const lib = /(lib[\w.+-]+\.so[\w.]*): cannot open shared object file/.exec(message)?.[1];
  if (lib && lib.startsWith('libvulkan'))
    return `The Vulkan loader (${lib}) is not installed; install it with \`sudo apt-get install libvulkan1 mesa-vulkan-drivers\`.`;
  if (lib)
    return `The native addon ${file} needs ${lib}, which is not installed; install the package that provides it, or rebuild with ${rebuildCommand()}.`;
  if (/wrong ELF class|invalid ELF header|cannot open shared object file: No such file/.test(message))
    return `The native addon ${file} was built for another platform (${message.split('\n')[0]}); rebuild it with ${rebuildCommand()}.`;
  return `The native addon ${file} failed to load (${message.split('\n')[0]}); rebuild it with ${rebuildCommand()}.`;
}

/** Why no addon was found: the platform, what ships prebuilt, and how to build one. */
function explainMissing(): string {
  const platform = `${process.platform}-${process.arch}`;
  const prebuilt = (PREBUILT_PLATFORMS as readonly string[]).includes(platform);
  const why = prebuilt
    ? `The vkrt native addon for ${platform} is missing from ${packageRoot()} (neither build/Release/ nor prebuilds/${platform}/ holds one)`
    : `vkrt has no prebuilt native addon for ${platform} (prebuilt: ${PREBUILT_PLATFORMS.join(', ')}, glibc)`;
  return `${why}; build it from source with ${rebuildCommand()}, which needs \`sudo apt-get install ${BUILD_PACKAGES}\` (or set VKRT_NATIVE to a built vkrt.node).`;
}

function tryLoad(): void {
  tried = true;
  let file: string;
  try {
    file = addonPath();
  } catch {
    loadError = explainMissing();
    return;
  }
  if (!fs.existsSync(file)) {
    loadError = `The vkrt native addon ${file} (VKRT_NATIVE) does not exist; unset VKRT_NATIVE to use the addon shipped with vkrt.`;
    return;
  }
  try {
    addon = require(file) as NativeAddon;
  } catch (e) {
    loadError = explainLoadFailure(file, (e as Error).message);
  }
}

/** One sentence explaining why the addon is unavailable, or undefined when it loaded. */
export function nativeLoadError(): string | undefined {
  if (!tried) tryLoad();
  return loadError;
}

/** True when the addon loaded (Vulkan devices may still be absent). */
export function nativeAvailable(): boolean {
  return nativeLoadError() === undefined;
}

/**
 * The addon. Throws a {@link VulkanError} whose message says what is missing and how to install it
 * when it cannot be loaded.
 */
export function loadNative(): NativeAddon {
  if (!tried) tryLoad();
  if (!addon) throw new VulkanError(loadError ?? 'The vkrt native addon could not be loaded.');
  return addon;
}
