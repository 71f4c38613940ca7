/**
 * `npm run bench -- serve`: `vkrt serve` under load against batch-1 sequential execute() on the
 * same model. The model is the MobileNetV2-shaped network of src/models/nets.ts with a symbolic
 * batch dimension, in a model repository with a dynamic batcher (max_batch_size, preferred sizes,
 * a queue delay, every engine built at load). The server runs in its own process (`vkrt serve`,
 * as a user runs it); autocannon drives it over loopback with binary-tensor requests from 1, 8, 64
 * concurrent connections. Reported per level: requests/s (= inferences/s: one row per request),
 * p50/p99 latency, the average batch the batcher formed (from /metrics), errors. The baseline is
 * one execution context of the batch-1 engine running execute() back to back. Each level runs 2 s
 * of warm-up first.
 *
 *   npm run bench -- serve [--size=64] [--clients=1,8,64] [--duration=10] [--maxBatch=8]
 *                          [--delayUs=2000] [--instances=1] [--out=FILE.json]
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import autocannon from 'autocannon';
import { Builder } from '../src/api/session';
import { flagString, parseArgs } from '../src/cli/args';
import { Tensor } from '../src/ir/tensor';
import { mobilenetV2Like } from '../src/models/nets';
import { serializeModel } from '../src/onnx/serialize';
import { InferenceClient } from '../src/serve/client';
import { joinBody } from '../src/serve/protocol';
import { markdownTable, quantile } from './stats';

interface Row {
  mode: string;
  clients: number;
  reqPerS: number;
  p50: number;
  p99: number;
  avgBatch: number;
  errors: number;
  requests: number;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{model="mobilenet"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['size', 'clients', 'duration', 'maxBatch', 'delayUs', 'instances', 'out']);
  const size = Number(flagString(args, 'size') ?? 64);
  const clients = (flagString(args, 'clients') ?? '1,8,64').split(',').map(Number);
  const duration = Number(flagString(args, 'duration') ?? 10);
  const maxBatch = Number(flagString(args, 'maxBatch') ?? 8);
  const delayUs = Number(flagString(args, 'delayUs') ?? 2000);
  const instances = Number(flagString(args, 'instances') ?? 1);
  const preferred = [4, 8, 16, 32, 64].filter((b) => b <= maxBatch);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-bench-serve-'));
  const rows: Row[] = [];
  try {
    const onnx = serializeModel(mobilenetV2Like({ batch: 'N', size }));
    fs.mkdirSync(path.join(dir, 'mobilenet', '1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'mobilenet', '1', 'model.onnx'), onnx);
    const config = { max_batch_size: maxBatch, preferred_batch_size: preferred, max_queue_delay_microseconds: delayUs, instance_count: instances, eager_engines: true, max_queue_size: 4096 };
    fs.writeFileSync(path.join(dir, 'mobilenet', 'config.json'), JSON.stringify(config));
    const n = 3 * size * size;
    let s = 11;
    const x = Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1);

    // the baseline: batch-1 engine, one context, execute() back to back
    {
      const builder = new Builder();
      const engine = await builder.buildEngineAsync(onnx, { inputShapes: { input: [1, 3, size, size] }, optimizationLevel: 0 });
      const ctx = engine.createExecutionContext();
      const input = new Tensor('float32', x, [1, 3, size, size]);
      for (let i = 0; i < 5; i++) await ctx.execute({ input });
      const ms: number[] = [];
      const t0 = performance.now();
      while (performance.now() - t0 < duration * 1000) {
        const a = performance.now();
        await ctx.execute({ input });
        ms.push(performance.now() - a);
      }
      const wall = (performance.now() - t0) / 1000;
      rows.push({ mode: 'execute() batch 1, sequential', clients: 1, reqPerS: ms.length / wall, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), avgBatch: 1, errors: 0, requests: ms.length });
      engine.dispose();
      builder.dispose();
    }

    // the server, in its own process
    const main = path.join(__dirname, '..', 'src', 'cli', 'main.ts');
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', main, 'serve', `--model-repository=${dir}`, '--port=0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setInterval(() => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          const loaded = /(\d+) of 1 model ready/.exec(out);
          if (!m || !loaded) return;
          clearInterval(t);
          if (loaded[1] === '1') resolve(m[1]);
          else reject(new Error(`the model did not load:\n${out}`));
        }, 50);
        child.on('exit', () => { clearInterval(t); reject(new Error(`vkrt serve exited:\n${out}`)); });
      });
      const client = new InferenceClient(url);
      const xs = new Tensor('float32', x, [1, 3, size, size]);
      // the server's answer agrees with the baseline's input (a sanity check before timing)
      const check = await client.infer('mobilenet', { input: xs }, { binary: true });
      if (check.outputs.logits.dims.join(',') !== '1,10') throw new Error(`unexpected output ${check.outputs.logits.dims}`);
      const { body, headerLength } = joinBody({ inputs: [{ name: 'input', shape: [1, 3, size, size], datatype: 'FP32', parameters: { binary_data_size: n * 4 } }], parameters: { binary_data_output: true } }, [new Uint8Array(x.buffer)]);
      const load = (connections: number, seconds: number) => autocannon({
        url: `${url}/v2/models/mobilenet/infer`, method: 'POST', connections, duration: seconds, timeout: 60,
        headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(headerLength) }, body,
      });
      for (const c of clients) {
        await load(c, Math.min(2, duration)); // warm-up, not measured
        const before = await client.metrics();
        const r = await load(c, duration);
        const after = await client.metrics();
        const infers = metric(after, 'vkrt_inference_count_total') - metric(before, 'vkrt_inference_count_total');
        const execs = metric(after, 'vkrt_inference_exec_count_total') - metric(before, 'vkrt_inference_exec_count_total');
        rows.push({
          mode: 'vkrt serve, dynamic batching', clients: c, reqPerS: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99,
          avgBatch: execs ? infers / execs : 0, errors: r.errors + r.timeouts + r.non2xx, requests: r.requests.total,
        });
      }
      client.close();
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const base = rows[0].reqPerS;
  console.log(`MobileNetV2-like ${size}x${size}, max_batch_size ${maxBatch}, preferred ${preferred.join('/')}, max_queue_delay ${delayUs} us, ${instances} instance(s), ${duration} s per row\n`);
  console.log(markdownTable(['mode', 'clients', 'inferences/s', 'vs execute()', 'p50 ms', 'p99 ms', 'avg batch', 'requests', 'errors'],
    rows.map((r) => [r.mode, String(r.clients), r.reqPerS.toFixed(1), `${(r.reqPerS / base).toFixed(2)}×`, r.p50.toFixed(1), r.p99.toFixed(1), r.avgBatch.toFixed(2), String(r.requests), String(r.errors)])));
  const file = flagString(args, 'out');
  if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), size, maxBatch, preferred, delayUs, instances, duration, rows }, null, 2));
  return rows.some((r) => r.errors) ? 1 : 0;
}
