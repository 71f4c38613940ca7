/**
 * `vkrt serve`: an HTTP server for the KServe v2 / Open Inference Protocol over a Triton-style
 * model repository (repository.ts), with a dynamic batcher per model (batcher.ts) on fixed-shape
 * engines (executor.ts), the binary tensor data extension (protocol.ts) and Prometheus metrics
 * (metrics.ts). docs/serve.md is the user's guide.
 *
 * Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/{m}[/versions/{v}],
 * .../ready, .../config; POST .../infer; GET /metrics. Errors are `{"error": "..."}` with a 4xx
 * status for the client's mistakes and 5xx for the server's; one request's failure never touches
 * another's.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { Device } from '../gpu/device';
import { packageVersion } from '../gpu/assets';
import type { Tensor } from '../ir/tensor';
import { DynamicBatcher } from './batcher';
import { badRequest, ServeError } from './errors';
import { FixedShapeExecutor, type IoSpec, type ModelExecutor } from './executor';
import { ModelMetrics, renderMetrics } from './metrics';
import { binaryData, checkShape, datatypeOf, HEADER_LENGTH, joinBody, jsonData, splitBody, tensorFromBinary, tensorFromJson, type JsonTensor } from './protocol';
import { scanRepository, type ModelConfig, type RepositoryModel } from './repository';

export interface ServerOptions {
  /** The model repository folder (see repository.ts, docs/serve.md). */
  modelRepository: string;
  /** TCP port (default 8000, Triton's HTTP port; 0: any free port, see InferenceServer.port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface). */
  host?: string;
  /** The device engines run on (default: a new device on the default GPU, or `deviceIndex`). */
  device?: Device;
  deviceIndex?: number;
  /** Request bodies larger than this are refused with 413 (default 64 MiB). */
  maxBodyBytes?: number;
  /** How long close() waits for in-flight requests before answering the rest with 503 (default 30 s). */
  exitTimeoutMs?: number;
  /** Log lines (model loads, engine builds, shutdown). */
  log?: (line: string) => void;
}

type ModelState = 'loading' | 'ready' | 'unavailable';

/** A model the server knows: its state, its executor and batcher once ready. */
interface ServedModel {
  name: string;
  version: string;
  repo?: RepositoryModel;
  state: ModelState;
  error?: string;
  executor?: ModelExecutor;
  batcher?: DynamicBatcher;
  metrics: ModelMetrics;
  /** Defaults of the request timeout. */
  timeoutUs: number;
  allowTimeoutOverride: boolean;
}

const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

/** The server; {@link InferenceServer.start} makes one. */
export class InferenceServer {
  private readonly http: http.Server;
  private readonly models = new Map<string, ServedModel>();
  private readonly device: Device;
  private readonly ownsDevice: boolean;
  private readonly log: (line: string) => void;
  private readonly maxBody: number;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private closing?: Promise<void>;
  private loaded: Promise<void> = Promise.resolve();

  private constructor(private readonly options: ServerOptions) {
    this.log = options.log ?? (() => {});
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.ownsDevice = !options.device;
    this.device = options.device ?? Device.create(options.deviceIndex !== undefined ? { index: options.deviceIndex } : {});
    this.http = http.createServer((req, res) => this.handle(req, res));
    this.http.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n' + JSON.stringify({ error: `malformed HTTP request: ${err.message}` }));
      else socket.destroy();
    });
  }

  /**
   * Reads the repository, listens, and loads every model (engine builds run off the main thread).
   * Resolves once listening and, unless `waitForModels` is false, once every model is ready or
   * failed (a failed model is listed as not ready, with its error in its metadata and the log).
   * @throws ServeError when the repository cannot be read; the listen error (EADDRINUSE, ...)
   */
  static async start(options: ServerOptions & { waitForModels?: boolean }): Promise<InferenceServer> {
    const { models, errors } = scanRepository(options.modelRepository);
    const server = new InferenceServer(options);
    try {
      for (const m of models) server.addModel(m.name, m.version, m);
      for (const e of errors) {
        const s = server.addModel(e.name, '1');
        s.state = 'unavailable';
        s.error = e.message;
        server.log(`model '${e.name}' is not served: ${e.message}`);
      }
      await new Promise<void>((resolve, reject) => {
        server.http.once('error', reject);
        server.http.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => {
          server.http.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      if (server.ownsDevice) server.device.dispose();
      throw e;
    }
    server.loaded = server.loadAll(models);
    if (options.waitForModels !== false) await server.loaded;
    return server;
  }

  /** The port listened on. */
  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** http://host:port */
  get url(): string {
    const a = this.http.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Resolves when every model has finished loading (or failed). */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  /** Every model's name, version, state and (when unavailable) error. */
  modelStates(): { name: string; version: string; state: ModelState; error?: string; engineBatchSizes?: readonly number[] }[] {
    return [...this.models.values()].map((m) => ({ name: m.name, version: m.version, state: m.state, error: m.error, engineBatchSizes: m.executor?.builtSizes }));
  }

  private addModel(name: string, version: string, repo?: RepositoryModel): ServedModel {
    const s: ServedModel = {
      name, version, repo, state: 'loading', timeoutUs: repo?.config.default_timeout_microseconds ?? 0, allowTimeoutOverride: repo?.config.allow_timeout_override ?? true,
      metrics: new ModelMetrics(name, version, () => ({ queued: s.batcher?.queued ?? 0, executing: s.batcher?.executing ?? 0 })),
    };
    this.models.set(name, s);
    return s;
  }

  /** Loads the models one after another (one engine build at a time keeps memory bounded). */
  private async loadAll(models: RepositoryModel[]): Promise<void> {
    for (const m of models) {
      const s = this.models.get(m.name)!;
      if (this.closing) {
        s.state = 'unavailable';
        s.error = 'the server is shutting down';
        continue;
      }
      const t0 = performance.now();
      try {
        const exec = await FixedShapeExecutor.open(m, { device: this.device, log: this.log });
        if (this.closing) {
          exec.dispose();
          s.state = 'unavailable';
          s.error = 'the server is shutting down';
          continue;
        }
        s.executor = exec;
        s.batcher = new DynamicBatcher(exec, {
          preferred: m.config.preferred_batch_size, maxQueueDelayUs: m.config.max_queue_delay_microseconds, maxQueueSize: m.config.max_queue_size ?? 1024,
        }, {
          batch: ({ rows, failed }) => {
            if (failed) return;
            s.metrics.executions++;
            s.metrics.batchSize.observe(rows);
          },
        });
        s.state = 'ready';
        const batching = exec.maxBatch > 0 ? `max_batch_size ${exec.maxBatch}, engine batch sizes ${exec.sizes.join('/')}` : 'no batching';
        this.log(`model '${m.name}' version ${m.version} ready (${m.kind === 'onnx' ? 'ONNX' : 'engine file'}, ${batching}, ${exec.instances} instance${exec.instances > 1 ? 's' : ''}) in ${(performance.now() - t0).toFixed(0)} ms`);
      } catch (e) {
        s.state = 'unavailable';
        s.error = (e as Error).message;
        this.log(`model '${m.name}' failed to load: ${s.error}`);
      }
    }
  }

  /** Ready: listening, not shutting down, and every model ready (Triton's strict readiness). */
  get ready(): boolean {
    return !this.closing && [...this.models.values()].every((m) => m.state === 'ready');
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.inFlight++;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    res.on('close', done);
    res.on('finish', done);
    this.route(req, res).catch((e) => this.fail(res, e));
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private fail(res: http.ServerResponse, e: unknown): void {
    const err = e instanceof ServeError ? e : new ServeError(500, `internal error: ${(e as Error)?.message ?? String(e)}`);
    const headers: http.OutgoingHttpHeaders = {};
    if (err.status === 413) headers.Connection = 'close';
    if (err.status === 429 || err.status === 503) headers['Retry-After'] = '1';
    this.send(res, err.status, { error: err.message }, headers);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const only = (allowed: string) => {
      if (method === allowed || (allowed === 'GET' && method === 'HEAD')) return true;
      req.resume();
      this.send(res, 405, { error: `${method} is not allowed on ${p}; use ${allowed}` }, { Allow: allowed === 'GET' ? 'GET, HEAD' : allowed });
      return false;
    };
    if (p === '/v2/health/live') {
      if (only('GET')) this.send(res, 200, { live: true });
      return;
    }
    if (p === '/v2/health/ready') {
      if (only('GET')) this.send(res, this.ready ? 200 : 400, { ready: this.ready });
      return;
    }
    if (p === '/v2') {
      if (only('GET')) this.send(res, 200, { name: 'vkrt', version: packageVersion(), extensions: ['binary_tensor_data', 'schedule_policy', 'model_configuration'] });
      return;
    }
    if (p === '/metrics') {
      if (!only('GET')) return;
      const text = renderMetrics([...this.models.values()].map((m) => m.metrics));
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer|config))?$/.exec(p);
    if (!m) {
      req.resume();
      throw new ServeError(404, `no endpoint ${p} (see docs/serve.md: /v2, /v2/health/live|ready, /v2/models/{model}[/versions/{version}][/ready|/infer|/config], /metrics)`);
    }
    const [, rawName, rawVersion, action] = m;
    let model: ServedModel;
    try {
      model = this.lookup(decodeURIComponent(rawName), rawVersion === undefined ? undefined : decodeURIComponent(rawVersion));
    } catch (e) {
      req.resume();
      if (e instanceof URIError) throw badRequest(`the model name or version in ${p} is not valid percent-encoding`);
      throw e;
    }
    if (action === 'infer') {
      if (method !== 'POST') {
        req.resume();
        this.send(res, 405, { error: `${method} is not allowed on ${p}; use POST` }, { Allow: 'POST' });
        return;
      }
      await this.infer(model, req, res);
      return;
    }
    if (!only('GET')) return;
    if (action === 'ready') this.send(res, model.state === 'ready' && !this.closing ? 200 : 400, { name: model.name, ready: model.state === 'ready' && !this.closing });
    else if (action === 'config') this.send(res, 200, this.configOf(model));
    else this.send(res, 200, this.metadataOf(model));
  }

  private lookup(name: string, version: string | undefined): ServedModel {
    const model = this.models.get(name);
    if (!model) {
      const names = [...this.models.keys()];
      throw new ServeError(404, `unknown model '${name}' (models: ${names.length ? names.join(', ') : 'none'})`);
    }
    if (version !== undefined && version !== model.version) {
      throw new ServeError(404, `model '${name}' has no version '${version}' being served (served: ${model.version})`);
    }
    return model;
  }

  private metadataOf(model: ServedModel): Record<string, unknown> {
    const io = (list: readonly IoSpec[] | undefined) => (list ?? []).map((i) => ({ name: i.name, datatype: datatypeOf(i.dtype) ?? i.dtype, shape: i.dims }));
    const md: Record<string, unknown> = {
      name: model.name,
      versions: [model.version],
      platform: model.repo?.kind === 'engine' ? 'vkrt_engine' : 'onnx_vkrt',
      inputs: io(model.executor?.inputs),
      outputs: io(model.executor?.outputs),
    };
    if (model.state !== 'ready') md.state = model.state;
    if (model.error) md.error = model.error;
    return md;
  }

  private configOf(model: ServedModel): Record<string, unknown> {
    const c: ModelConfig = model.repo?.config ?? {};
    const e = model.executor as FixedShapeExecutor | undefined;
    return {
      name: model.name,
      version: model.version,
      state: model.state,
      ...(model.error ? { error: model.error } : {}),
      file: model.repo?.file,
      max_batch_size: e?.maxBatch ?? c.max_batch_size,
      preferred_batch_size: c.preferred_batch_size ?? [],
      max_queue_delay_microseconds: c.max_queue_delay_microseconds ?? 0,
      max_queue_size: c.max_queue_size ?? 1024,
      default_timeout_microseconds: model.timeoutUs,
      allow_timeout_override: model.allowTimeoutOverride,
      instance_count: c.instance_count ?? 1,
      fp16: c.fp16 ?? false,
      optimization_level: c.optimization_level ?? 0,
      engine_batch_sizes: e?.sizes ?? c.engine_batch_sizes,
      eager_engines: c.eager_engines ?? false,
      engines_built: e?.builtSizes ?? [],
      input_shapes: c.input_shapes ?? {},
    };
  }

  /** The body, up to the size limit. */
  private readBody(req: http.IncomingMessage): Promise<Buffer> {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.maxBody) {
      req.resume();
      return Promise.reject(new ServeError(413, `the request body (${declared} bytes) is larger than the limit of ${this.maxBody} bytes (--max-body-bytes)`));
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      req.resume();
      return Promise.reject(new ServeError(415, `Content-Encoding '${encoding}' is not supported; send the body uncompressed`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        n += c.length;
        if (n > this.maxBody) {
          over = true;
          chunks.length = 0;
          reject(new ServeError(413, `the request body is larger than the limit of ${this.maxBody} bytes (--max-body-bytes)`));
          return;
        }
        chunks.push(c);
      });
      let ended = false;
      req.on('end', () => {
        ended = true;
        if (!over) resolve(Buffer.concat(chunks, n));
      });
      req.on('close', () => {
        if (!ended && !over) reject(new ServeError(499, 'the client closed the connection before the request body arrived'));
      });
      req.on('error', (e) => reject(new ServeError(400, `reading the request body failed: ${e.message}`)));
    });
  }

  private async infer(model: ServedModel, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = performance.now();
    try {
      if (this.closing) {
        req.resume();
        throw new ServeError(503, 'the server is shutting down; no new requests are taken');
      }
      if (model.state !== 'ready' || !model.batcher || !model.executor) {
        req.resume();
        throw new ServeError(503, `model '${model.name}' is not ready (${model.state}${model.error ? `: ${model.error}` : ''})`);
      }
      const body = await this.readBody(req);
      const header = req.headers[HEADER_LENGTH];
      const { json, binary } = splitBody(body, Array.isArray(header) ? header[0] : header);
      const request = decodeRequest(json, binary, model.executor);
      let timeoutUs = model.timeoutUs;
      // Triton's rule: a request may shorten the model's timeout, never lengthen it (0 asks for none)
      if (request.timeoutUs && model.allowTimeoutOverride && (timeoutUs === 0 || request.timeoutUs < timeoutUs)) timeoutUs = request.timeoutUs;
      // a client that goes away takes its request out of the queue (its rows are not computed)
      const gone = new AbortController();
      const onClose = () => { if (!res.writableFinished) gone.abort(); };
      res.once('close', onClose);
      let result;
      try {
        result = await model.batcher.submit(request.inputs, request.rows, timeoutUs, gone.signal);
      } finally {
        res.off('close', onClose);
      }
      const outputs: JsonTensor[] = [];
      const parts: Uint8Array[] = [];
      for (const want of request.outputs) {
        const t = result.outputs.get(want.name)!;
        const datatype = datatypeOf(t.dtype)!;
        if (want.binary) {
          const bytes = binaryData(t);
          parts.push(bytes);
          outputs.push({ name: want.name, datatype, shape: [...t.dims], parameters: { binary_data_size: bytes.length } });
        } else {
          outputs.push({ name: want.name, datatype, shape: [...t.dims], data: jsonData(t) });
        }
      }
      const response: Record<string, unknown> = { model_name: model.name, model_version: model.version };
      if (request.id !== undefined) response.id = request.id;
      response.outputs = outputs;
      const { body: out, headerLength } = joinBody(response, parts);
      const headers: http.OutgoingHttpHeaders = { 'Content-Length': out.length };
      if (headerLength !== undefined) {
        headers['Content-Type'] = 'application/octet-stream';
        headers['Inference-Header-Content-Length'] = headerLength;
      } else headers['Content-Type'] = 'application/json';
      const m = model.metrics;
      m.success++;
      m.inferences += request.rows || 1;
      m.queueSeconds.observe(result.queueMs / 1000);
      m.computeSeconds.observe(result.computeMs / 1000);
      m.requestSeconds.observe((performance.now() - t0) / 1000);
      res.writeHead(200, headers);
      res.end(out);
    } catch (e) {
      const err = e instanceof ServeError ? e : new ServeError(500, `internal error: ${(e as Error)?.message ?? String(e)}`);
      model.metrics.fail(err.reason);
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Graceful shutdown: stops accepting connections and requests (new inference requests get 503,
   * readiness turns false), lets queued and running requests finish and their responses go out
   * (up to exitTimeoutMs; what is left then is answered 503), closes the connections, disposes the
   * engines and the device it opened. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const limit = this.options.exitTimeoutMs ?? 30_000;
    this.log(`shutting down: ${this.inFlight} request${this.inFlight === 1 ? '' : 's'} in flight`);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    const drained = Promise.all([...this.models.values()].map((m) => m.batcher?.drain()));
    const idle = new Promise<void>((resolve) => {
      if (this.inFlight === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), limit); });
    const first = await Promise.race([Promise.all([drained, idle]), timeout]);
    if (first === 'timeout') {
      this.log(`shutdown: requests still running after ${limit} ms; answering the queued ones with 503`);
      for (const m of this.models.values()) m.batcher?.abort('the server shut down before this request ran');
      await Promise.race([idle, new Promise((r) => setTimeout(r, 1000))]);
    }
    clearTimeout(timer);
    await this.loaded.catch(() => undefined);
    this.http.closeAllConnections();
    await closed;
    for (const m of this.models.values()) {
      m.executor?.dispose();
      if (m.state === 'ready') m.state = 'unavailable';
    }
    if (this.ownsDevice) this.device.dispose();
    this.log('shut down');
  }
}

/** A decoded inference request. */
interface DecodedRequest {
  id?: string;
  inputs: Map<string, Tensor>;
  /** Batch rows (0 for a model without a batch dimension). */
  rows: number;
  outputs: { name: string; binary: boolean }[];
  timeoutUs?: number;
}

/**
 * Checks an inference request against the model and decodes its tensors.
 * @throws ServeError 400 naming what is wrong.
 */
export function decodeRequest(json: Record<string, unknown>, binary: Uint8Array, model: Pick<ModelExecutor, 'inputs' | 'outputs' | 'maxBatch'>): DecodedRequest {
  const { id, parameters, inputs, outputs } = json;
  if (id !== undefined && typeof id !== 'string') throw badRequest(`'id' must be a string, got ${JSON.stringify(id)}`);
  const params = checkParams(parameters, 'the request');
  let timeoutUs: number | undefined;
  if (params.timeout !== undefined) {
    if (typeof params.timeout !== 'number' || !Number.isInteger(params.timeout) || params.timeout < 0) throw badRequest(`parameters.timeout must be a non-negative integer (microseconds), got ${JSON.stringify(params.timeout)}`);
    timeoutUs = params.timeout;
  }
  if (params.binary_data_output !== undefined && typeof params.binary_data_output !== 'boolean') throw badRequest('parameters.binary_data_output must be true or false');
  const allBinary = params.binary_data_output === true;
  if (!Array.isArray(inputs) || !inputs.length) throw badRequest(`'inputs' must be a non-empty array of tensors (model inputs: ${model.inputs.map((i) => i.name).join(', ')})`);
  const byName = new Map(model.inputs.map((i) => [i.name, i]));
  const decoded = new Map<string, Tensor>();
  let rows: number | undefined;
  let at = 0;
  for (const raw of inputs) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('each of \'inputs\' must be an object { name, shape, datatype, data | parameters.binary_data_size }');
    const t = raw as Record<string, unknown>;
    if (typeof t.name !== 'string') throw badRequest('an input has no \'name\'');
    const name = t.name;
    const spec = byName.get(name);
    if (!spec) throw badRequest(`'${name}' is not an input of the model (inputs: ${[...byName.keys()].join(', ')})`);
    if (decoded.has(name)) throw badRequest(`input '${name}' is given twice`);
    const expected = datatypeOf(spec.dtype);
    if (!expected) throw new ServeError(500, `input '${name}' is ${spec.dtype}, which the protocol cannot carry`);
    if (t.datatype !== expected) throw badRequest(`input '${name}' must have datatype ${expected}, got ${JSON.stringify(t.datatype)}`);
    const shape = checkShape(name, t.shape);
    const want = model.maxBatch > 0 ? spec.dims.slice(1) : spec.dims;
    const got = model.maxBatch > 0 ? shape.slice(1) : shape;
    const shapeText = model.maxBatch > 0 ? `[batch,${want.join(',')}] with 1 <= batch <= ${model.maxBatch}` : `[${want.join(',')}]`;
    if (shape.length !== spec.dims.length || got.some((d, i) => d !== want[i])) throw badRequest(`input '${name}' must have shape ${shapeText}, got [${shape.join(',')}]`);
    if (model.maxBatch > 0) {
      const b = shape[0];
      if (b < 1 || b > model.maxBatch) throw badRequest(`input '${name}' has batch ${b}; the model takes 1 to ${model.maxBatch} (max_batch_size)`);
      if (rows !== undefined && b !== rows) throw badRequest(`the inputs disagree on the batch size: '${name}' has ${b}, an earlier input ${rows}`);
      rows = b;
    }
    const tp = checkParams(t.parameters, `input '${name}'`);
    if (tp.binary_data_size !== undefined) {
      const size = tp.binary_data_size;
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw badRequest(`input '${name}': parameters.binary_data_size must be a non-negative integer`);
      if (t.data !== undefined) throw badRequest(`input '${name}' has both 'data' and parameters.binary_data_size`);
      if (at + size > binary.length) throw badRequest(`input '${name}': binary_data_size ${size} runs past the end of the body (${binary.length - at} binary bytes left)`);
      decoded.set(name, tensorFromBinary(name, expected, shape, binary.subarray(at, at + size)));
      at += size;
    } else {
      decoded.set(name, tensorFromJson(name, expected, shape, t.data));
    }
  }
  if (at !== binary.length) throw badRequest(`the body has ${binary.length - at} bytes of binary data that no input's binary_data_size accounts for`);
  const missing = model.inputs.filter((i) => !decoded.has(i.name));
  if (missing.length) throw badRequest(`missing input${missing.length > 1 ? 's' : ''} ${missing.map((i) => `'${i.name}'`).join(', ')}`);
  const outNames = model.outputs.map((o) => o.name);
  let wanted: { name: string; binary: boolean }[];
  if (outputs === undefined) wanted = outNames.map((name) => ({ name, binary: allBinary }));
  else {
    if (!Array.isArray(outputs)) throw badRequest("'outputs' must be an array of { name, parameters? }");
    wanted = [];
    for (const raw of outputs) {
      if (!raw || typeof raw !== 'object' || typeof (raw as { name?: unknown }).name !== 'string') throw badRequest("each of 'outputs' must be an object with a 'name'");
      const o = raw as { name: string; parameters?: unknown };
      if (!outNames.includes(o.name)) throw badRequest(`'${o.name}' is not an output of the model (outputs: ${outNames.join(', ')})`);
      if (wanted.some((w) => w.name === o.name)) throw badRequest(`output '${o.name}' is requested twice`);
      const op = checkParams(o.parameters, `output '${o.name}'`);
      if (op.classification !== undefined) throw badRequest(`output '${o.name}': the classification extension is not supported`);
      if (op.binary_data !== undefined && typeof op.binary_data !== 'boolean') throw badRequest(`output '${o.name}': parameters.binary_data must be true or false`);
      wanted.push({ name: o.name, binary: (op.binary_data as boolean | undefined) ?? allBinary });
    }
  }
  return { id, inputs: decoded, rows: rows ?? 0, outputs: wanted, timeoutUs };
}

function checkParams(p: unknown, what: string): Record<string, unknown> {
  if (p === undefined) return {};
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw badRequest(`${what}: 'parameters' must be an object`);
  return p as Record<string, unknown>;
}
