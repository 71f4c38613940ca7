/** The device facts the builder plans for, read from an open device. */
import type { Device, DeviceInfo } from '../gpu/device';
import type { CoopMatCaps, DeviceCaps } from '../kernel/contract';
import type { BuilderConfig } from './config';

/** The emulated combination of BuilderConfig.cooperativeMatrix 'emulate' (shaders/common/coopmat.glsl). */
export const EMULATED_COOPMAT: CoopMatCaps = { path: 'emulate', M: 16, N: 16, K: 16, a: 'f16', b: 'f16', c: 'f32', result: 'f32' };

/**
 * The cooperative-matrix combinations kernels may use on this device (DeviceCaps.cooperativeMatrix),
 * per BuilderConfig.cooperativeMatrix. A real path needs FP16 (the kernels stage FP16 in shared
 * memory), subgroup scope, and the Vulkan memory model (GL_NV_cooperative_matrix compiles to it).
 * 'auto' takes each distinct combination once: from VK_NV_cooperative_matrix where that lists it
 * (glslang's SPIR-V runs unchanged), else from VK_KHR_cooperative_matrix (the rewritten SPIR-V).
 */
export function coopMatCaps(info: Pick<DeviceInfo, 'fp16' | 'vulkanMemoryModel' | 'cooperativeMatrixProperties'>, choice: BuilderConfig['cooperativeMatrix'] = 'auto'): CoopMatCaps[] {
  if (choice === 'off') return [];
  if (choice === 'emulate') return [EMULATED_COOPMAT];
  if (!info.fp16 || !info.vulkanMemoryModel) return [];
  const out: CoopMatCaps[] = [];
  const seen = new Set<string>();
  const order = [...(info.cooperativeMatrixProperties ?? [])].sort((x, y) => (x.extension === y.extension ? 0 : x.extension === 'VK_NV_cooperative_matrix' ? -1 : 1));
  for (const p of order) {
    const path = p.extension === 'VK_NV_cooperative_matrix' ? 'nv' : 'khr';
    if (p.scope !== 'subgroup' || p.saturatingAccumulation || (choice !== 'auto' && choice !== path)) continue;
    const c: CoopMatCaps = { path, M: p.M, N: p.N, K: p.K, a: p.A, b: p.B, c: p.C, result: p.result };
    const key = `${c.M}x${c.N}x${c.K}:${c.a},${c.b},${c.c},${c.result}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** The device facts the builder needs, with the storage-buffer offset alignment of its memory plan. */
export function deviceCaps(device: Device, config: Pick<BuilderConfig, 'cooperativeMatrix'> = {}): DeviceCaps & { alignment: number } {
  const i = device.info;
  return {
    subgroupSize: i.subgroupSize || 32,
    maxGroupsX: i.maxComputeWorkGroupCount[0],
    maxGroupsY: i.maxComputeWorkGroupCount[1],
    maxWorkgroupInvocations: i.maxComputeWorkGroupInvocations,
    fp16: i.fp16,
    maxSharedMemory: i.maxComputeSharedMemorySize || 16384,
    cooperativeMatrix: coopMatCaps(i, config.cooperativeMatrix),
    alignment: Math.max(16, Number(i.minStorageBufferOffsetAlignment) || 256),
  };
}
