/**
 * `vkrt serve` over HTTP on 127.0.0.1 (port 0) with small models built in code: every endpoint of
 * the KServe v2 protocol with JSON and binary tensors, the datatypes, output selection, ids,
 * versions, metrics; bad requests answered 4xx among good ones; dynamic batching checked against
 * sequential execution; timeouts, a full queue, shutdown with requests in flight.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Builder } from '../../src/api/session';
import { float16Bits, Tensor } from '../../src/ir/tensor';
import { serializeModel } from '../../src/onnx/serialize';
import { InferenceClient, InferenceClientError, parseInferResponse, type InferResult } from '../../src/serve/client';
import type { InferenceServer } from '../../src/serve/server';
import { useGpu } from '../helpers/gpu';
import { halfModel, mlpModel, mlpReference, startServer, typesModel, writeRepository } from './helpers';

const rowsOf = (seed: number, rows: number) => Float32Array.from({ length: rows * 4 }, (_, i) => ((seed * 7 + i * 3) % 11) - 5 + seed / 8);

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `element ${i}: ${a[i]} vs ${b[i]}`);
}

function checkMlp(x: Float32Array, rows: number, out: Record<string, Tensor>): void {
  for (let r = 0; r < rows; r++) {
    const ref = mlpReference(x.subarray(r * 4, r * 4 + 4));
    if (out.y) close((out.y.data as Float32Array).subarray(r * 3, r * 3 + 3), ref.y);
    if (out.z) close((out.z.data as Float32Array).subarray(r * 4, r * 4 + 4), ref.z);
  }
}

/** A metric's value from the Prometheus text (the line with these labels). */
function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  assert.ok(line, `no ${name}{${labels}} in /metrics`);
  return Number(line.split(' ').pop());
}

describe('serve: KServe v2 endpoints', function () {
  this.timeout(120000);
  const gpu = useGpu();
  let server: InferenceServer;
  let client: InferenceClient;
  let repo: string;

  before(async () => {
    repo = writeRepository({
      mlp: { model: mlpModel(), config: { max_batch_size: 8, preferred_batch_size: [4] } },
      types: { model: typesModel() },
      half: { model: halfModel(), config: { max_batch_size: 2 } },
      ver: { model: mlpModel(), version: 3, config: { max_batch_size: 2, engine_batch_sizes: [2] } },
    });
    fs.mkdirSync(path.join(repo, 'ver', '1'));
    fs.writeFileSync(path.join(repo, 'ver', '1', 'model.onnx'), serializeModel(mlpModel()));
    server = await startServer(repo, { device: gpu.device, maxBodyBytes: 64 * 1024 });
    client = new InferenceClient(server.url);
  });
  after(async () => {
    client?.close();
    await server?.close();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('health: live and ready', async () => {
    const live = await client.request('GET', '/v2/health/live');
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.body.toString()), { live: true });
    assert.equal(await client.isServerReady(), true);
    assert.equal(await client.isModelReady('mlp'), true);
    assert.equal(await client.isModelReady('mlp', '1'), true);
    assert.equal(await client.isModelReady('ver', '3'), true);
    assert.equal((await client.request('GET', '/v2/models/nope/ready')).status, 404);
  });

  it('server metadata', async () => {
    const md = await client.serverMetadata();
    assert.equal(md.name, 'vkrt');
    assert.match(md.version, /^\d+\.\d+\.\d+/);
    assert.ok(md.extensions.includes('binary_tensor_data'));
  });

  it('model metadata: KServe datatypes, -1 for the batch dimension, versions', async () => {
    assert.deepEqual(await client.modelMetadata('mlp'), {
      name: 'mlp', versions: ['1'], platform: 'onnx_vkrt',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }, { name: 'z', datatype: 'FP32', shape: [-1, 4] }],
    });
    const types = await client.modelMetadata('types', '1');
    assert.deepEqual(types.inputs.map((i) => [i.name, i.datatype, i.shape]), [['a', 'INT64', [2, 3]], ['b', 'UINT8', [2, 3]], ['c', 'INT32', [2, 3]], ['d', 'INT8', [2, 3]]]);
    assert.deepEqual(types.outputs.map((i) => [i.name, i.datatype]), [['a_out', 'INT64'], ['b_out', 'FP32'], ['c_out', 'BOOL'], ['d_out', 'FP32']]);
    assert.deepEqual((await client.modelMetadata('half')).inputs, [{ name: 'x', datatype: 'FP16', shape: [-1, 4] }]);
    assert.deepEqual((await client.modelMetadata('ver')).versions, ['3']); // the highest version folder
    await assert.rejects(client.modelMetadata('ver', '1'), (e: InferenceClientError) => e.status === 404 && /no version '1' being served \(served: 3\)/.test(e.message));
    await assert.rejects(client.modelMetadata('nope'), (e: InferenceClientError) => e.status === 404 && /unknown model 'nope' \(models: half, mlp, types, ver\)/.test(e.message));
    const config = JSON.parse((await client.request('GET', '/v2/models/mlp/config')).body.toString());
    assert.equal(config.max_batch_size, 8);
    assert.deepEqual(config.engine_batch_sizes, [1, 4, 8]);
  });

  it('infer with JSON tensors: outputs, id echoed, nested data', async () => {
    const x = rowsOf(1, 2);
    const r = await client.infer('mlp', { x: new Tensor('float32', x, [2, 4]) }, { id: 'req-42' });
    assert.equal(r.id, 'req-42');
    assert.equal(r.modelName, 'mlp');
    assert.equal(r.modelVersion, '1');
    assert.deepEqual(r.outputs.y.dims, [2, 3]);
    checkMlp(x, 2, r.outputs);
    // nested rows, by hand
    const raw = await client.request('POST', '/v2/models/mlp/versions/1/infer', Buffer.from(JSON.stringify({
      inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [Array.from(x.subarray(0, 4)), Array.from(x.subarray(4))] }],
    })), { 'Content-Type': 'application/json' });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-type'], 'application/json');
    const body = JSON.parse(raw.body.toString());
    assert.equal(body.id, undefined);
    assert.deepEqual(body.outputs.map((o: { name: string; datatype: string; shape: number[] }) => [o.name, o.datatype, o.shape]), [['y', 'FP32', [2, 3]], ['z', 'FP32', [2, 4]]]);
    close(body.outputs[1].data, Array.from(x, (v) => 2 * v));
  });

  it('infer with binary tensors both ways, on the wire', async () => {
    const x = rowsOf(2, 3);
    const head = Buffer.from(JSON.stringify({
      id: 'bin', inputs: [{ name: 'x', shape: [3, 4], datatype: 'FP32', parameters: { binary_data_size: 48 } }],
      outputs: [{ name: 'z', parameters: { binary_data: true } }, { name: 'y' }],
    }));
    const body = Buffer.concat([head, Buffer.from(x.buffer)]);
    const r = await client.request('POST', '/v2/models/mlp/infer', body, { 'Inference-Header-Content-Length': head.length, 'Content-Type': 'application/octet-stream' });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    const n = Number(r.headers['inference-header-content-length']);
    const json = JSON.parse(r.body.subarray(0, n).toString());
    assert.equal(json.id, 'bin');
    // z binary (in the order asked), y as JSON
    assert.deepEqual(json.outputs[0], { name: 'z', datatype: 'FP32', shape: [3, 4], parameters: { binary_data_size: 48 } });
    assert.equal(json.outputs[1].name, 'y');
    assert.equal(json.outputs[1].data.length, 9);
    const z = new Float32Array(r.body.buffer.slice(r.body.byteOffset + n, r.body.byteOffset + n + 48));
    close(z, Array.from(x, (v) => 2 * v));
    assert.equal(r.body.length, n + 48);
    // the client's binary mode; binary_data_output for all outputs
    const c = await client.infer('mlp', { x: new Tensor('float32', x, [3, 4]) }, { binary: true });
    checkMlp(x, 3, c.outputs);
  });

  it('output selection returns only the outputs asked for', async () => {
    const x = rowsOf(3, 1);
    const r = await client.infer('mlp', { x: new Tensor('float32', x, [1, 4]) }, { outputs: ['y'] });
    assert.deepEqual(Object.keys(r.outputs), ['y']);
    checkMlp(x, 1, r.outputs);
  });

  it('datatypes: INT64, UINT8, INT32, INT8 in; INT64, FP32, BOOL out; JSON and binary', async () => {
    const inputs = {
      a: new Tensor('int64', new BigInt64Array([1n, 2n, -3n, 40n, 5n, -6n]), [2, 3]),
      b: new Tensor('uint8', new Uint8Array([0, 1, 2, 255, 4, 5]), [2, 3]),
      c: new Tensor('int32', new Int32Array([-1, 0, 1, 2, -3, 4]), [2, 3]),
      d: new Tensor('int8', new Int8Array([-128, 0, 1, 2, -3, 127]), [2, 3]),
    };
    for (const binary of [false, true]) {
      const { outputs } = await client.infer('types', inputs, { binary });
      assert.deepEqual(Array.from(outputs.a_out.data as BigInt64Array), [6n, 7n, 2n, 45n, 10n, -1n]);
      assert.equal(outputs.b_out.dtype, 'float32');
      assert.deepEqual(Array.from(outputs.b_out.data as Float32Array), [0, 1, 2, 255, 4, 5]);
      assert.equal(outputs.c_out.dtype, 'bool');
      assert.deepEqual(Array.from(outputs.c_out.data as Uint8Array), [0, 0, 1, 1, 0, 1]);
      assert.deepEqual(Array.from(outputs.d_out.data as Float32Array), [-128, 0, 1, 2, -3, 127]);
    }
    const raw = await client.request('POST', '/v2/models/types/infer', Buffer.from(JSON.stringify({
      inputs: Object.entries(inputs).map(([name, t]) => ({ name, shape: [2, 3], datatype: { a: 'INT64', b: 'UINT8', c: 'INT32', d: 'INT8' }[name], data: Array.from(t.data as ArrayLike<number | bigint>, Number) })),
      outputs: [{ name: 'c_out' }],
    })));
    assert.deepEqual(JSON.parse(raw.body.toString()).outputs[0].data, [false, false, true, true, false, true]);
  });

  it('FP16 as JSON numbers and as binary half bits', async () => {
    const x = Tensor.from('float16', [2, 4], [1, -2, 3.5, -4, 0.25, 0, -0.5, 65504]);
    for (const binary of [false, true]) {
      const { outputs } = await client.infer('half', { x }, { binary });
      assert.equal(outputs.y.dtype, 'float16');
      assert.deepEqual(Array.from(outputs.y.data as Uint16Array), Array.from(float16Bits([1, 0, 3.5, 0, 0.25, 0, 0, 65504])));
    }
  });

  it('a served version by path; the metrics count requests, batches and times per model', async () => {
    const x = rowsOf(4, 2);
    const r = await client.infer('ver', { x: new Tensor('float32', x, [2, 4]) }, { version: '3' });
    assert.equal(r.modelVersion, '3');
    checkMlp(x, 2, r.outputs);
    const text = await client.metrics();
    assert.match(text, /# TYPE vkrt_inference_request_success_total counter/);
    assert.match(text, /# TYPE vkrt_inference_batch_size histogram/);
    assert.ok(metric(text, 'vkrt_inference_request_success_total', 'model="ver",version="3"') >= 1);
    assert.ok(metric(text, 'vkrt_inference_count_total', 'model="ver",version="3"') >= 2);
    assert.ok(metric(text, 'vkrt_inference_batch_size_bucket', 'model="ver",version="3",le="2"') >= 1);
    assert.ok(metric(text, 'vkrt_inference_compute_duration_seconds_count', 'model="mlp",version="1"') >= 1);
    assert.ok(metric(text, 'vkrt_inference_queue_duration_seconds_sum', 'model="mlp",version="1"') >= 0);
    const res = await client.request('GET', '/metrics');
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  });

  it('bad requests get 4xx with a KServe error, and good requests keep working', async () => {
    const post = (body: string | Buffer, headers = {}, model = 'mlp') => client.request('POST', `/v2/models/${model}/infer`, Buffer.from(body), headers);
    const x4 = { name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] };
    const cases: [string, Promise<{ status: number; body: Buffer }>, number, RegExp][] = [
      ['malformed JSON', post('{"inputs": [', {}), 400, /not valid JSON/],
      ['not an object', post('[1,2]'), 400, /must be a JSON object/],
      ['no inputs', post('{}'), 400, /'inputs' must be a non-empty array/],
      ['unknown input', post(JSON.stringify({ inputs: [{ ...x4, name: 'q' }] })), 400, /'q' is not an input of the model \(inputs: x\)/],
      ['missing input', post(JSON.stringify({ inputs: [{ name: 'a', shape: [2, 3], datatype: 'INT64', data: [1, 2, 3, 4, 5, 6] }] }), {}, 'types'), 400, /missing inputs 'b', 'c', 'd'/],
      ['wrong datatype', post(JSON.stringify({ inputs: [{ ...x4, datatype: 'FP64' }] })), 400, /input 'x' must have datatype FP32, got "FP64"/],
      ['wrong shape', post(JSON.stringify({ inputs: [{ ...x4, shape: [1, 5], data: [1, 2, 3, 4, 5] }] })), 400, /input 'x' must have shape \[batch,4\] with 1 <= batch <= 8, got \[1,5\]/],
      ['batch too large', post(JSON.stringify({ inputs: [{ ...x4, shape: [9, 4], data: new Array(36).fill(0) }] })), 400, /has batch 9; the model takes 1 to 8/],
      ['data count', post(JSON.stringify({ inputs: [{ ...x4, data: [1, 2, 3] }] })), 400, /has shape \[1,4\] \(4 elements\) but 'data' holds 3/],
      ['bad element', post(JSON.stringify({ inputs: [{ ...x4, data: [1, 2, 'x', 4] }] })), 400, /element 2 is "x"/],
      ['binary size mismatch', (() => {
        const head = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 12 } }] });
        return post(Buffer.concat([Buffer.from(head), Buffer.alloc(12)]), { 'Inference-Header-Content-Length': Buffer.byteLength(head) });
      })(), 400, /needs 16 bytes of binary data; binary_data_size is 12/],
      ['binary leftover', (() => {
        const head = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] });
        return post(Buffer.concat([Buffer.from(head), Buffer.alloc(20)]), { 'Inference-Header-Content-Length': Buffer.byteLength(head) });
      })(), 400, /4 bytes of binary data that no input's binary_data_size accounts for/],
      ['header length past the body', post(JSON.stringify({ inputs: [x4] }), { 'Inference-Header-Content-Length': '100000' }), 400, /Inference-Header-Content-Length header \(100000\)/],
      ['unknown output', post(JSON.stringify({ inputs: [x4], outputs: [{ name: 'w' }] })), 400, /'w' is not an output of the model \(outputs: y, z\)/],
      ['id not a string', post(JSON.stringify({ id: 5, inputs: [x4] })), 400, /'id' must be a string/],
      ['bad timeout', post(JSON.stringify({ parameters: { timeout: -1 }, inputs: [x4] })), 400, /parameters.timeout must be a non-negative integer/],
      ['unknown model', post(JSON.stringify({ inputs: [x4] }), {}, 'nope'), 404, /unknown model 'nope'/],
      ['oversize body', post(Buffer.alloc(65 * 1024, 32)), 413, /larger than the limit of 65536 bytes/],
      ['GET on infer', client.request('GET', '/v2/models/mlp/infer'), 405, /GET is not allowed on \/v2\/models\/mlp\/infer; use POST/],
      ['no such endpoint', client.request('GET', '/v3/things'), 404, /no endpoint \/v3\/things/],
    ];
    // good requests in flight at the same time as the bad ones
    const good = Array.from({ length: 6 }, (_, i) => client.infer('mlp', { x: new Tensor('float32', rowsOf(10 + i, 1), [1, 4]) }));
    for (const [what, p, status, re] of cases) {
      const r = await p;
      assert.equal(r.status, status, `${what}: ${r.body.toString()}`);
      const json = JSON.parse(r.body.toString());
      assert.deepEqual(Object.keys(json), ['error'], what);
      assert.match(json.error, re, what);
    }
    (await Promise.all(good)).forEach((r, i) => checkMlp(rowsOf(10 + i, 1), 1, r.outputs));
    const text = await client.metrics();
    assert.ok(metric(text, 'vkrt_inference_request_failure_total', 'model="mlp",version="1",reason="bad_request"') >= 14);
    assert.ok(metric(text, 'vkrt_inference_request_failure_total', 'model="mlp",version="1",reason="too_large"') >= 1);
  });
});

describe('serve: dynamic batching, timeouts, queue limits, shutdown', function () {
  this.timeout(180000);
  const gpu = useGpu();

  it('merges concurrent requests into one batch and splits the results as sequential execution gives them', async () => {
    // preferred 8 = max and a one-minute delay: the batch goes exactly when 8 rows are queued
    const repo = writeRepository({
      seq: { model: mlpModel(), config: { max_batch_size: 8, engine_batch_sizes: [1, 2, 3, 8] } },
      batched: { model: mlpModel(), config: { max_batch_size: 8, preferred_batch_size: [8], max_queue_delay_microseconds: 60_000_000 } },
    });
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      const sizes = [1, 2, 3, 2];
      const xs = sizes.map((n, i) => rowsOf(20 + i, n));
      const sequential: InferResult[] = [];
      for (let i = 0; i < sizes.length; i++) sequential.push(await client.infer('seq', { x: new Tensor('float32', xs[i], [sizes[i], 4]) }));
      const merged = await Promise.all(sizes.map((n, i) => client.infer('batched', { x: new Tensor('float32', xs[i], [n, 4]) }, { id: `r${i}`, binary: i % 2 === 1 })));
      merged.forEach((r, i) => {
        assert.equal(r.id, `r${i}`);
        for (const name of ['y', 'z']) {
          assert.deepEqual(r.outputs[name].dims, sequential[i].outputs[name].dims);
          close(r.outputs[name].data as Float32Array, sequential[i].outputs[name].data as Float32Array, 1e-6);
        }
        checkMlp(xs[i], sizes[i], r.outputs);
      });
      const text = await client.metrics();
      assert.equal(metric(text, 'vkrt_inference_exec_count_total', 'model="batched",version="1"'), 1);
      assert.equal(metric(text, 'vkrt_inference_batch_size_bucket', 'model="batched",version="1",le="4"'), 0);
      assert.equal(metric(text, 'vkrt_inference_batch_size_bucket', 'model="batched",version="1",le="8"'), 1);
      assert.equal(metric(text, 'vkrt_inference_count_total', 'model="batched",version="1"'), 8);
      assert.equal(metric(text, 'vkrt_inference_exec_count_total', 'model="seq",version="1"'), 4);
      // a batch of 3 ran padded on an engine of 8 only where no engine of 3 exists: seq has one
      const config = JSON.parse((await client.request('GET', '/v2/models/seq/config')).body.toString());
      assert.deepEqual(config.engines_built, [1, 2, 3]);
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('a batch smaller than every engine runs padded and comes back with its own rows', async () => {
    const repo = writeRepository({
      pad: { model: mlpModel(), config: { max_batch_size: 4, engine_batch_sizes: [4] } },
      eager: { model: mlpModel(), config: { max_batch_size: 4, engine_batch_sizes: [2, 4], eager_engines: true, default_timeout_microseconds: 60_000_000 } },
    });
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      const x = rowsOf(5, 3);
      const r = await client.infer('pad', { x: new Tensor('float32', x, [3, 4]) });
      assert.deepEqual(r.outputs.y.dims, [3, 3]);
      checkMlp(x, 3, r.outputs);
      // eager_engines: every engine size exists before the first request
      const config = JSON.parse((await client.request('GET', '/v2/models/eager/config')).body.toString());
      assert.deepEqual(config.engines_built, [2, 4]);
      assert.equal(config.default_timeout_microseconds, 60_000_000);
      checkMlp(x, 3, (await client.infer('eager', { x: new Tensor('float32', x, [3, 4]) }, { timeoutUs: 0 })).outputs);
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('timeouts (504), a full queue (429), a malformed request among good ones, shutdown with requests queued', async () => {
    // the batch waits for 4 rows (preferred 4, a one-minute delay): requests stay queued
    const repo = writeRepository({
      wait: { model: mlpModel(), config: { max_batch_size: 4, preferred_batch_size: [4], max_queue_delay_microseconds: 60_000_000, max_queue_size: 3 } },
    });
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      // a request with a 30 ms timeout times out in the queue
      await assert.rejects(client.infer('wait', { x: new Tensor('float32', rowsOf(1, 1), [1, 4]) }, { timeoutUs: 30_000 }),
        (e: InferenceClientError) => e.status === 504 && /timed out after .* ms in the queue \(timeout 30000 us\)/.test(e.message));
      // three queued, a fourth is refused; a malformed one in between gets 400 and disturbs nothing
      const xs = [0, 1, 2].map((i) => rowsOf(30 + i, 1));
      const queued = xs.map((x) => client.infer('wait', { x: new Tensor('float32', x, [1, 4]) }));
      const bad = client.request('POST', '/v2/models/wait/infer', Buffer.from('{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2]}]}'));
      assert.equal((await bad).status, 400);
      for (let i = 0; i < 200; i++) {
        if (metric(await client.metrics(), 'vkrt_inference_pending_requests', 'model="wait",version="1"') === 3) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await assert.rejects(client.infer('wait', { x: new Tensor('float32', rowsOf(9, 1), [1, 4]) }),
        (e: InferenceClientError) => e.status === 429 && /queue is full \(3 requests waiting/.test(e.message));
      // shutdown: the queued requests still run (the batch no longer waits) and are answered
      const closing = server.close();
      assert.equal(server.ready, false);
      const results = await Promise.all(queued);
      results.forEach((r, i) => checkMlp(xs[i], 1, r.outputs));
      await closing;
      assert.deepEqual(server.modelStates().map((m) => m.state), ['unavailable']);
      await assert.rejects(client.isServerLive()); // no longer listening
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('a client that closes its connection takes its queued request out of the queue', async () => {
    const repo = writeRepository({ wait: { model: mlpModel(), config: { max_batch_size: 4, preferred_batch_size: [4], max_queue_delay_microseconds: 60_000_000 } } });
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }));
      const req = http.request(`${server.url}/v2/models/wait/infer`, { method: 'POST', headers: { 'Content-Length': body.length } });
      req.on('error', () => {});
      req.end(body);
      const pending = async () => metric(await client.metrics(), 'vkrt_inference_pending_requests', 'model="wait",version="1"');
      for (let i = 0; i < 200 && (await pending()) !== 1; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await pending(), 1);
      req.destroy();
      for (let i = 0; i < 200 && (await pending()) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
      const text = await client.metrics();
      assert.equal(metric(text, 'vkrt_inference_pending_requests', 'model="wait",version="1"'), 0);
      assert.equal(metric(text, 'vkrt_inference_request_failure_total', 'model="wait",version="1",reason="cancelled"'), 1);
      assert.equal(metric(text, 'vkrt_inference_exec_count_total', 'model="wait",version="1"'), 0);
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('several instances of a model run the same requests to the same answers', async () => {
    const repo = writeRepository({ multi: { model: mlpModel(), config: { max_batch_size: 2, instance_count: 3 } } });
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      const xs = Array.from({ length: 12 }, (_, i) => rowsOf(40 + i, 1 + (i % 2)));
      const rs = await Promise.all(xs.map((x, i) => client.infer('multi', { x: new Tensor('float32', x, [1 + (i % 2), 4]) })));
      rs.forEach((r, i) => checkMlp(xs[i], 1 + (i % 2), r.outputs));
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('a model that cannot be served is listed as not ready with its reason; the others serve', async () => {
    const repo = writeRepository({
      good: { model: mlpModel() },
      fixed: { model: typesModel(), config: { max_batch_size: 4 } },
      typo: { model: mlpModel(), config: '{"max_batch_sise": 4}' },
    });
    fs.mkdirSync(path.join(repo, 'empty'));
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      assert.equal(await client.isServerReady(), false);
      assert.equal(await client.isModelReady('good'), true);
      assert.equal(await client.isModelReady('fixed'), false);
      const states = Object.fromEntries(server.modelStates().map((m) => [m.name, m]));
      assert.match(states.fixed.error!, /max_batch_size 4 needs a symbolic first \(batch\) dimension on every input; 'a' is \[2,3\]/);
      assert.match(states.typo.error!, /config\.json: unknown key 'max_batch_sise'/);
      assert.match(states.empty.error!, /no model file \(model\.onnx, model\.engine, model\.plan\)/);
      const r = await client.request('POST', '/v2/models/fixed/infer', Buffer.from('{}'));
      assert.equal(r.status, 503);
      assert.match(JSON.parse(r.body.toString()).error, /model 'fixed' is not ready \(unavailable: /);
      const x = rowsOf(1, 1);
      checkMlp(x, 1, (await client.infer('good', { x: new Tensor('float32', x, [1, 4]) })).outputs);
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('serves an engine file (model.engine) with its fixed batch', async () => {
    const builder = new Builder(gpu.device);
    const engine = builder.buildEngine(mlpModel(), { inputShapes: { x: [4, 4] } });
    const bytes = engine.serialize();
    engine.dispose();
    builder.dispose();
    const repo = writeRepository({ eng: { model: bytes, file: 'model.engine', config: { max_batch_size: 4 } } });
    const server = await startServer(repo, { device: gpu.device });
    const client = new InferenceClient(server.url);
    try {
      assert.equal((await client.modelMetadata('eng')).platform, 'vkrt_engine');
      const x = rowsOf(7, 2);
      const r = await client.infer('eng', { x: new Tensor('float32', x, [2, 4]) }, { binary: true });
      checkMlp(x, 2, r.outputs);
    } finally {
      client.close();
      await server.close();
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });

  it('parseInferResponse turns an error answer into an InferenceClientError', () => {
    assert.throws(() => parseInferResponse({ status: 400, headers: {}, body: Buffer.from('{"error":"nope"}') }), (e: InferenceClientError) => e.status === 400 && e.message === 'nope');
  });
});
