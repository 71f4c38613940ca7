/**
 * A client for the KServe v2 / Open Inference Protocol over HTTP (vkrt serve, Triton, KServe
 * runtimes): health, metadata and inference with JSON or binary tensors, on Node's `http` with a
 * keep-alive agent.
 *
 * ```ts
 * const client = new InferenceClient('http://127.0.0.1:8000');
 * const { outputs } = await client.infer('mobilenet', { input: new Tensor('float32', data, [1, 3, 96, 96]) }, { binary: true });
 * outputs.logits.data; // Float32Array
 * client.close();
 * ```
 */
import * as http from 'http';
import { Tensor } from '../ir/tensor';
import { ServeError } from './errors';
import { binaryData, datatypeOf, HEADER_LENGTH, joinBody, jsonData, splitBody, tensorFromBinary, tensorFromJson, type JsonTensor } from './protocol';

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

export interface InferOptions {
  /** The model version (default: the one the server serves). */
  version?: string;
  /** Send the inputs as binary data and ask for binary outputs (default false: JSON). */
  binary?: boolean;
  /** Send the inputs as binary data (default: `binary`). */
  binaryInputs?: boolean;
  /** Ask for the outputs as binary data (default: `binary`). */
  binaryOutputs?: boolean;
  /** Only these outputs (default: all). */
  outputs?: readonly string[];
  /** The request id, echoed in the response. */
  id?: string;
  /** Queue timeout in microseconds (the `timeout` request parameter). */
  timeoutUs?: number;
}

export interface InferResult {
  modelName: string;
  modelVersion?: string;
  id?: string;
  outputs: Record<string, Tensor>;
}

/** An HTTP response, raw. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The server answered with an error status: `status` and the server's message. */
export class InferenceClientError extends ServeError {}

export class InferenceClient {
  private readonly base: URL;
  private readonly agent: http.Agent;

  /** @param url the server's base URL, e.g. http://127.0.0.1:8000 */
  constructor(url: string, options: { maxSockets?: number } = {}) {
    this.base = new URL(url);
    if (this.base.protocol !== 'http:') throw new InferenceClientError(400, `InferenceClient: ${url} is not an http:// URL`);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  }

  /** One HTTP request; resolves with whatever status comes back. */
  request(method: string, path: string, body?: Uint8Array, headers: http.OutgoingHttpHeaders = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent, method, hostname: this.base.hostname, port: this.base.port || 80, path,
        headers: body ? { 'Content-Length': body.length, ...headers } : headers,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  private async json(method: string, path: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await this.request(method, path);
    let json: Record<string, unknown> = {};
    if (r.body.length) {
      try {
        json = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new InferenceClientError(502, `${method} ${path}: the server's answer is not JSON (status ${r.status})`);
      }
    }
    return { status: r.status, json };
  }

  private async ok(path: string): Promise<Record<string, unknown>> {
    const { status, json } = await this.json('GET', path);
    if (status !== 200) throw new InferenceClientError(status, `GET ${path}: ${typeof json.error === 'string' ? json.error : `status ${status}`}`);
    return json;
  }

  private modelPath(model: string, version?: string): string {
    return `/v2/models/${encodeURIComponent(model)}${version !== undefined ? `/versions/${encodeURIComponent(version)}` : ''}`;
  }

  async isServerLive(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/live')).status === 200;
  }

  async isServerReady(): Promise<boolean> {
    return (await this.request('GET', '/v2/health/ready')).status === 200;
  }

  async isModelReady(model: string, version?: string): Promise<boolean> {
    return (await this.request('GET', `${this.modelPath(model, version)}/ready`)).status === 200;
  }

  async serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }> {
    return (await this.ok('/v2')) as unknown as { name: string; version: string; extensions: string[] };
  }

  async modelMetadata(model: string, version?: string): Promise<ModelMetadata> {
    return (await this.ok(this.modelPath(model, version))) as unknown as ModelMetadata;
  }

  /** The Prometheus text of /metrics. */
  async metrics(): Promise<string> {
    const r = await this.request('GET', '/metrics');
    if (r.status !== 200) throw new InferenceClientError(r.status, `GET /metrics: status ${r.status}`);
    return r.body.toString('utf8');
  }

  /**
   * Runs an inference: `inputs` by name (their dtypes give the datatypes: float32 -> FP32,
   * float16 (Uint16Array bits) -> FP16, int64 -> INT64, bool -> BOOL, string -> BYTES, ...).
   * @throws InferenceClientError with the server's status and message for an error answer.
   */
  async infer(model: string, inputs: Record<string, Tensor> | Map<string, Tensor>, options: InferOptions = {}): Promise<InferResult> {
    const binIn = options.binaryInputs ?? options.binary ?? false;
    const binOut = options.binaryOutputs ?? options.binary ?? false;
    const tensors: JsonTensor[] = [];
    const parts: Uint8Array[] = [];
    for (const [name, t] of inputs instanceof Map ? inputs : Object.entries(inputs)) {
      const datatype = datatypeOf(t.dtype);
      if (!datatype) throw new InferenceClientError(400, `input '${name}': dtype ${t.dtype} has no KServe datatype`);
      if (binIn) {
        const bytes = binaryData(t);
        parts.push(bytes);
        tensors.push({ name, datatype, shape: [...t.dims], parameters: { binary_data_size: bytes.length } });
      } else tensors.push({ name, datatype, shape: [...t.dims], data: jsonData(t) });
    }
    const request: Record<string, unknown> = {};
    if (options.id !== undefined) request.id = options.id;
    const params: Record<string, unknown> = {};
    if (options.timeoutUs !== undefined) params.timeout = options.timeoutUs;
    if (binOut && !options.outputs) params.binary_data_output = true;
    if (Object.keys(params).length) request.parameters = params;
    request.inputs = tensors;
    if (options.outputs) request.outputs = options.outputs.map((name) => ({ name, parameters: binOut ? { binary_data: true } : undefined }));
    const { body, headerLength } = joinBody(request, parts);
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': headerLength !== undefined ? 'application/octet-stream' : 'application/json' };
    if (headerLength !== undefined) headers['Inference-Header-Content-Length'] = headerLength;
    const r = await this.request('POST', `${this.modelPath(model, options.version)}/infer`, body, headers);
    return parseInferResponse(r);
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** Decodes an inference response (JSON or with binary outputs); error statuses throw. */
export function parseInferResponse(r: RawResponse): InferResult {
  const header = r.headers[HEADER_LENGTH];
  let json: Record<string, unknown>, binary: Uint8Array;
  try {
    ({ json, binary } = splitBody(r.body, Array.isArray(header) ? header[0] : header, 'response'));
  } catch (e) {
    throw new InferenceClientError(r.status >= 400 ? r.status : 502, `the server answered ${r.status} with a body that is not a KServe response: ${(e as Error).message}`);
  }
  if (r.status !== 200) throw new InferenceClientError(r.status, typeof json.error === 'string' ? json.error : `status ${r.status}`);
  const outputs: Record<string, Tensor> = {};
  let at = 0;
  for (const o of (json.outputs ?? []) as JsonTensor[]) {
    const size = o.parameters?.binary_data_size;
    if (typeof size === 'number') {
      outputs[o.name] = tensorFromBinary(o.name, o.datatype, o.shape, binary.subarray(at, at + size));
      at += size;
    } else outputs[o.name] = tensorFromJson(o.name, o.datatype, o.shape, o.data);
  }
  return { modelName: json.model_name as string, modelVersion: json.model_version as string | undefined, id: json.id as string | undefined, outputs };
}
