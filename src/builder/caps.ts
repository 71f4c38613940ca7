/** The device facts the builder plans for, read from an open device (src/kernel/contract.ts derives them). */
import type { Device } from '../gpu/device';
import { capsOf, DeviceCaps } from '../kernel/contract';
import type { BuilderConfig } from './config';

export { coopMatCaps, EMULATED_COOPMAT, EMULATED_COOPMAT_INT8 } from '../kernel/contract';

/** The device facts the builder needs, with the storage-buffer offset alignment of its memory plan. */
export function deviceCaps(device: Device, config: Pick<BuilderConfig, 'cooperativeMatrix'> = {}): DeviceCaps & { alignment: number } {
  return capsOf(device.info, config.cooperativeMatrix);
}
