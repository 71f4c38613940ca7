/**
 * A load test on loopback with autocannon: bounded request counts at 1, 16 and 64 connections
 * against a batching model (JSON and binary bodies); every request must be answered 200, the
 * server's counters must agree with the client's, and batches must have formed under load.
 * Short by default (a few seconds on lavapipe); VKRT_SERVE_LOAD=N multiplies the request counts
 * (VKRT_SERVE_LOAD=10 for a real soak).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import autocannon from 'autocannon';
import { Tensor } from '../../src/ir/tensor';
import { InferenceClient } from '../../src/serve/client';
import { joinBody } from '../../src/serve/protocol';
import type { InferenceServer } from '../../src/serve/server';
import { useGpu } from '../helpers/gpu';
import { mlpModel, startServer, writeRepository } from './helpers';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{model="mlp",version="1"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('serve: load (autocannon on loopback)', function () {
  this.timeout(300000);
  const gpu = useGpu();
  let server: InferenceServer;
  let repo: string;
  const scale = Math.max(1, Number(process.env.VKRT_SERVE_LOAD ?? 1));

  before(async () => {
    repo = writeRepository({ mlp: { model: mlpModel(), config: { max_batch_size: 16, preferred_batch_size: [4, 8, 16], max_queue_delay_microseconds: 1000, instance_count: 2, engine_batch_sizes: [1, 16], eager_engines: true } } });
    server = await startServer(repo, { device: gpu.device });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  for (const [connections, amount, binary] of [[1, 40, false], [16, 240, true], [64, 480, false]] as const) {
    it(`${connections} connection(s), ${amount * scale} ${binary ? 'binary' : 'JSON'} requests: all answered 200, counters agree`, async () => {
      const client = new InferenceClient(server.url);
      const before = await client.metrics();
      const x = [0.5, -1, 2, -3];
      const { body, headerLength } = binary
        ? joinBody({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }], parameters: { binary_data_output: true } }, [new Uint8Array(Float32Array.from(x).buffer)])
        : joinBody({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: x }] }, []);
      const headers: Record<string, string> = { 'Content-Type': binary ? 'application/octet-stream' : 'application/json' };
      if (headerLength !== undefined) headers['Inference-Header-Content-Length'] = String(headerLength);
      const r = await autocannon({ url: `${server.url}/v2/models/mlp/infer`, method: 'POST', connections, amount: amount * scale, timeout: 60, headers, body });
      assert.equal(r.errors, 0);
      assert.equal(r.timeouts, 0);
      assert.equal(r.non2xx, 0);
      assert.equal(r['2xx'], amount * scale);
      const after = await client.metrics();
      assert.equal(metric(after, 'vkrt_inference_request_success_total') - metric(before, 'vkrt_inference_request_success_total'), amount * scale);
      const execs = metric(after, 'vkrt_inference_exec_count_total') - metric(before, 'vkrt_inference_exec_count_total');
      assert.ok(execs >= (amount * scale) / 16 && execs <= amount * scale, `${execs} executions`);
      if (connections >= 16) assert.ok(execs < amount * scale, 'no batch formed under load');
      // the server still answers correctly after the load
      const out = await client.infer('mlp', { x: new Tensor('float32', Float32Array.from(x), [1, 4]) });
      assert.deepEqual(Array.from(out.outputs.z.data as Float32Array), x.map((v) => 2 * v));
      client.close();
    });
  }
});
