/**
 * Shared set-up for GPU tests: one Device per suite with the Khronos validation layer on, and a
 * check after every test that the layer said nothing (any message fails the test run).
 *
 * Validation is on unless VKRT_VALIDATION=0. Device choice: $VKRT_TEST_DEVICE (an index) if set, else the default device. When the loader
 * finds no usable device, lavapipe's ICD (Mesa's CPU driver) is selected explicitly.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Device } from '../../src/gpu';

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d'];

function usableDevices(): number {
  try {
    return Device.list().filter((d) => d.usable).length;
  } catch {
    return 0;
  }
}

/** lvp_icd.<arch>.json wherever the distribution put it (the arch part differs per machine). */
export function findLavapipeIcd(): string | undefined {
  for (const dir of ICD_DIRS) {
    let files: string[] = [];
    try {
      files = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const f = files.find((n) => /^lvp_icd(\..+)?\.json$/.test(n));
    if (f) return path.join(dir, f);
  }
  return undefined;
}

let driverChecked = false;

/** Makes sure some Vulkan device is usable, selecting lavapipe when nothing else is. */
export function ensureDriver(): void {
  if (driverChecked) return;
  driverChecked = true;
  if (usableDevices() > 0) return;
  const icd = findLavapipeIcd();
  if (!icd) throw new Error('no Vulkan device and no lavapipe ICD: run `sudo apt-get install mesa-vulkan-drivers`');
  process.env.VK_DRIVER_FILES = icd; // loader >= 1.3.207
  process.env.VK_ICD_FILENAMES = icd; // older loaders
  if (usableDevices() === 0) throw new Error(`lavapipe (${icd}) gives no usable Vulkan device`);
}

/** On unless VKRT_VALIDATION=0 (for machines without the layer, such as the GPU host). */
export function validationWanted(): boolean {
  return process.env.VKRT_VALIDATION !== '0';
}

export function testDeviceIndex(): number | undefined {
  const v = process.env.VKRT_TEST_DEVICE;
  return v === undefined || v === '' ? undefined : Number(v);
}

/** Opens a validated device for tests that need their own (for example pipeline-cache restores). */
export function openDevice(options: { pipelineCache?: Uint8Array; forceStaging?: boolean } = {}): Device {
  ensureDriver();
  return Device.create({ index: testDeviceIndex(), validation: validationWanted(), ...options });
}

/** Fails with every validation message the device collected. */
export function assertNoValidationMessages(device: Device, where: string): void {
  if (device.disposed) return;
  const messages = device.drainValidationMessages();
  if (messages.length) throw new Error(`Vulkan validation messages during ${where}:\n${messages.join('\n')}`);
}

export interface GpuContext {
  device: Device;
}

/**
 * Call inside a `describe`: opens a validated device before the suite, checks the validation
 * messages after each test, disposes the device after the suite.
 */
export function useGpu(options: { forceStaging?: boolean } = {}): GpuContext {
  const ctx = {} as GpuContext;
  before(function () {
    this.timeout(60000);
    ctx.device = openDevice(options);
  });
  afterEach(function () {
    if (ctx.device) assertNoValidationMessages(ctx.device, `"${this.currentTest?.fullTitle()}"`);
  });
  after(function () {
    if (!ctx.device) return;
    assertNoValidationMessages(ctx.device, 'the suite');
    ctx.device.dispose();
  });
  return ctx;
}

/** Deterministic pseudo-random bytes (no Math.random: failures must reproduce). */
export function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let h = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    b[i] = h & 0xff;
  }
  return b;
}
