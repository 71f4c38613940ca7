/** The device facts the builder plans for, read from an open device. */
import type { Device } from '../gpu/device';
import type { DeviceCaps } from '../kernel/contract';

/** The device facts the builder needs, with the storage-buffer offset alignment of its memory plan. */
export function deviceCaps(device: Device): DeviceCaps & { alignment: number } {
  const i = device.info;
  return {
    subgroupSize: i.subgroupSize || 32,
    maxGroupsX: i.maxComputeWorkGroupCount[0],
    maxGroupsY: i.maxComputeWorkGroupCount[1],
    maxWorkgroupInvocations: i.maxComputeWorkGroupInvocations,
    fp16: i.fp16,
    alignment: Math.max(16, Number(i.minStorageBufferOffsetAlignment) || 256),
  };
}
