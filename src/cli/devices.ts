/**
 * `vkrt devices [--json] [--validation]`: every Vulkan device with its capabilities, as a
 * readable table or as a JSON array (the fields of {@link DeviceInfo}).
 */
import { Device, formatCoopMatProperty, type DeviceInfo } from '../gpu';
import { parseCommand, type CommandSpec } from './args';

function bytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n.toFixed(n >= 100 ? 0 : 2)} ${units[i]}`;
}

const yes = (b: boolean) => (b ? 'yes' : 'no');
const hex = (n: number, w = 4) => `0x${n.toString(16).padStart(w, '0')}`;

/**
 * The supported cooperative-matrix combinations, one row each (none where an extension is present
 * but lists nothing usable from compute shaders), and the memory model their GLSL needs.
 */
function coopMatRows(d: DeviceInfo): [string, string][] {
  const list = d.cooperativeMatrixProperties ?? [];
  if (!d.cooperativeMatrix.length && !list.length) return [];
  const rows: [string, string][] = list.map((p, i) => [i === 0 ? 'coopMatCombinations' : '', formatCoopMatProperty(p)]);
  if (!rows.length) rows.push(['coopMatCombinations', 'none usable from compute shaders']);
  rows.push(['vulkanMemoryModel', yes(d.vulkanMemoryModel)]);
  return rows;
}

/** The human-readable table of one device. */
export function formatDevice(d: DeviceInfo): string {
  const rows: [string, string][] = [
    ['type', d.type],
    ['vendorId / deviceId', `${hex(d.vendorId)} / ${hex(d.deviceId)}`],
    ['driver', `${d.driverName || '?'} ${d.driverVersion} (raw ${hex(d.driverVersionRaw, 8)})${d.driverInfo ? `, ${d.driverInfo}` : ''}`],
    ['apiVersion', d.apiVersion],
    ['fp16', yes(d.fp16)],
    ['int8', yes(d.int8)],
    ['int8DotProduct', d.int8DotProduct ? `yes${d.int8DotProductAccelerated ? ' (accelerated)' : ' (not accelerated)'}` : 'no'],
    ['cooperativeMatrix', d.cooperativeMatrix.length ? d.cooperativeMatrix.join(', ') : 'none'],
    ...coopMatRows(d),
    ['subgroupSize', String(d.subgroupSize)],
    ['timestampPeriodNs', String(d.timestampPeriodNs)],
    ['timestampValidBits', d.timestampValidBits ? String(d.timestampValidBits) : '0 (no timestamps on compute)'],
    ['computeQueues', `${d.computeQueues} (family ${d.computeFamily ?? '-'}, ${d.computeOnlyFamily ? 'compute-only' : 'graphics+compute'})`],
    ['memoryHeaps', d.memoryHeaps.map((h, i) => `#${i} ${bytes(h.size)}${h.deviceLocal ? ' device-local' : ''}`).join('; ')],
    ['maxComputeWorkGroupCount', d.maxComputeWorkGroupCount.join(' x ')],
    ['maxComputeWorkGroupSize', d.maxComputeWorkGroupSize.join(' x ')],
    ['maxComputeWorkGroupInvocations', String(d.maxComputeWorkGroupInvocations)],
    ['maxStorageBufferRange', bytes(d.maxStorageBufferRange)],
    ['maxMemoryAllocationSize', bytes(d.maxMemoryAllocationSize)],
    ['maxBufferSize', d.maxBufferSize ? bytes(d.maxBufferSize) : 'not reported'],
    ['maxPushConstantsSize', `${d.maxPushConstantsSize} bytes`],
    ['pipelineCacheUUID', d.pipelineCacheUUID],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const head = `Device ${d.index}${d.isDefault ? ' (default)' : ''}${d.usable ? '' : ' (unusable: no compute queue or Vulkan < 1.1)'}: ${d.name}`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}

export const SPEC: CommandSpec = {
  name: 'devices',
  summary: 'The Vulkan devices and their capabilities (fp16, int8, dot product, cooperative matrix, subgroup size, timestamps, queues, memory heaps).',
  usage: 'devices [--json] [--validation]',
  valueFlags: [],
  switches: ['json', 'validation'],
  help: {
    json: { description: 'print a JSON array (the fields of DeviceInfo)' },
    validation: { description: 'enumerate with the Khronos validation layer on' },
  },
  examples: ['vkrt devices', 'vkrt devices --json'],
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const devices = Device.list({ validation: args.flags.has('validation') });
  if (args.flags.has('json')) {
    console.log(JSON.stringify(devices, null, 2));
    return 0;
  }
  if (devices.length === 0) {
    console.log('No Vulkan devices. Install a driver: `sudo apt-get install mesa-vulkan-drivers` gives the CPU driver lavapipe.');
    return 1;
  }
  console.log(devices.map(formatDevice).join('\n\n'));
  return 0;
}
