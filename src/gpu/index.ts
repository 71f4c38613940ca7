/** vkrt's thin, typed layer over the native Vulkan addon. */
export { Device, DEFAULT_GPU_TIMEOUT_MS, resolveGpuTimeoutMs } from './device';
export type { DeviceHealth, DeviceInfo, DeviceOptions, GlslOptions, OpenDeviceInfo } from './device';
export { GpuBuffer } from './buffer';
export type { BufferKind } from './buffer';
export { Pipeline, packSpecialization } from './pipeline';
export type { PipelineDesc, SpecConstant } from './pipeline';
export { Program, grid1d } from './program';
export type { BufferBinding, Command } from './program';
export { tickDelta, ticksToMs, timestampDeltasMs } from './timing';
export { loadSpirv, shaderIncludes, shaderSource } from './shaders';
export { packageVersion } from './assets';
export { GlslCompileError, GpuStateError } from './errors';
export { coopMatComponent, coopMatScope, decodeCoopMatProperty, formatCoopMatProperty } from './coopmat';
export type { CoopMatComponent, CoopMatProperty, CoopMatScope } from './coopmat';
