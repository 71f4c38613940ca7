/**
 * `npm run bench -- native [--device=N] [--size-mib=M] [--runs=R] [--submits=S]`
 *
 * 1. Host overhead of submitting an already recorded program and awaiting it (submit -> worker
 *    thread waits on the fence -> promise resolves): median of many runs after warm-up, in µs, for
 *    an empty program and for a one-dispatch program.
 * 2. Bandwidth of shaders/native/copy_vec4.comp (16-byte loads and stores) over a large buffer,
 *    timed by GPU timestamps, counting bytes read plus bytes written; vkCmdCopyBuffer alongside.
 */
import { parseArgs, flagString } from '../src/cli/args';
import { Device, GpuBuffer, grid1d, loadSpirv } from '../src/gpu';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

async function submitOverhead(device: Device, withDispatch: boolean, warmup: number, runs: number): Promise<number[]> {
  const buf = device.createBuffer(256, 'device');
  const p = device.createPipeline({ spirv: loadSpirv('native/copy_vec4'), name: 'copy_vec4', bindingCount: 2, pushConstantSize: 4 });
  const half = { buffer: buf, offset: 0, range: 128 };
  const other = { buffer: buf, offset: 128, range: 128 };
  const prog = device.createProgram(
    withDispatch ? [{ op: 'dispatch', pipeline: p, bindings: [half, other], push: new Uint32Array([8]), groups: 1 }] : [],
  );
  for (let i = 0; i < warmup; i++) await prog.submit();
  const us: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await prog.submit();
    us.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  for (const o of [prog, p, buf]) o.dispose();
  return us;
}

export async function bandwidth(device: Device, bytes: number, runs: number, shader: boolean): Promise<number[]> {
  const info = device.info;
  const src = device.createBuffer(bytes, 'device');
  const dst = device.createBuffer(bytes, 'device');
  const p = device.createPipeline({
    spirv: loadSpirv('native/copy_vec4'),
    name: 'copy_vec4',
    bindingCount: 2,
    pushConstantSize: 4,
    specialization: [{ id: 0, type: 'uint', value: 256 }],
  });
  const count = bytes / 16;
  const groups = grid1d(count, 256, info.maxComputeWorkGroupCount[0]);
  // copy_vec4 strides over x only: use x groups up to the limit and let the loop cover the rest.
  const prepare = device.createProgram([
    { op: 'fill', dst: src, value: 0x3f800000 },
    { op: 'fill', dst, value: 0 },
  ]);
  await prepare.submit();
  const prog = device.createProgram(
    shader
      ? [
          { op: 'timestamp', index: 0 },
          { op: 'dispatch', pipeline: p, bindings: [src, dst], push: new Uint32Array([count]), groups: [groups[0], 1, 1] },
          { op: 'timestamp', index: 1 },
        ]
      : [{ op: 'timestamp', index: 0 }, { op: 'copy', src, dst }, { op: 'timestamp', index: 1 }],
  );
  await prog.submit(); // warm-up (and lavapipe's shader JIT)
  check(dst, bytes);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    await prog.submit();
    ms.push(prog.timestampDeltasMs()[0]);
  }
  for (const o of [prog, prepare, p, src, dst]) o.dispose();
  return ms.map((t) => (2 * bytes) / (t / 1e3) / 1e9);
}

function check(dst: GpuBuffer, bytes: number): void {
  const n = Math.min(4096, bytes);
  for (const off of [0, bytes - n]) {
    const v = new Float32Array(dst.read(off, n).buffer);
    if (!v.every((x) => x === 1)) throw new Error(`copy result wrong near byte ${off}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['device', 'size-mib', 'runs', 'submits']);
  const index = flagString(args, 'device');
  const device = Device.create({ index: index === undefined ? undefined : Number(index) });
  const info = device.info;
  try {
    const gpuLike = info.type === 'discrete' || info.type === 'integrated';
    const submits = Number(flagString(args, 'submits') ?? 2000);
    const runs = Number(flagString(args, 'runs') ?? (gpuLike ? 50 : 15));
    const largestHeap = Math.max(...info.memoryHeaps.filter((h) => h.deviceLocal).map((h) => h.size), 0);
    // 1 GiB on GPUs, 128 MiB on CPU drivers; never over maxStorageBufferRange or a quarter of the heap.
    const want = Number(flagString(args, 'size-mib') ?? (gpuLike ? 1024 : 128)) * 2 ** 20;
    const bytes = Math.floor(Math.min(want, info.maxStorageBufferRange, largestHeap / 4) / 2 ** 20) * 2 ** 20;

    const empty = await submitOverhead(device, false, 200, submits);
    const one = await submitOverhead(device, true, 200, submits);
    const rows: string[][] = [
      ['submit + await, empty program', `${median(empty).toFixed(1)} µs`, `p10 ${quantile(empty, 0.1).toFixed(1)}, p90 ${quantile(empty, 0.9).toFixed(1)} µs; ${submits} runs after 200 warm-up`],
      ['submit + await, 1 tiny dispatch', `${median(one).toFixed(1)} µs`, `p10 ${quantile(one, 0.1).toFixed(1)}, p90 ${quantile(one, 0.9).toFixed(1)} µs; ${submits} runs after 200 warm-up`],
    ];
    if (info.timestampValidBits) {
      const mib = bytes / 2 ** 20;
      const sh = await bandwidth(device, bytes, runs, true);
      const cp = await bandwidth(device, bytes, runs, false);
      rows.push(['copy_vec4 shader bandwidth', `${median(sh).toFixed(1)} GB/s`, `best ${Math.max(...sh).toFixed(1)} GB/s; ${mib} MiB read + ${mib} MiB written; median of ${runs}, GPU timestamps`]);
      rows.push(['vkCmdCopyBuffer bandwidth', `${median(cp).toFixed(1)} GB/s`, `best ${Math.max(...cp).toFixed(1)} GB/s; same buffers and counting`]);
    } else {
      rows.push(['copy bandwidth', 'n/a', 'the compute queue family cannot write timestamps']);
    }
    console.log(`vkrt native benchmark on device ${info.index}: ${info.name} (${info.type}; ${info.driverName} ${info.driverVersion}; Vulkan ${info.apiVersion})`);
    console.log(`node ${process.version}, ${process.platform}-${process.arch}`);
    console.log('');
    console.log('| measurement | median | detail |');
    console.log('| --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    return 0;
  } finally {
    device.dispose();
  }
}
