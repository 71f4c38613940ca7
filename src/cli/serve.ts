/**
 * `vkrt serve --model-repository=DIR [--port=N]`: Triton's command line for the KServe v2 HTTP
 * server of src/serve (docs/serve.md). Runs until SIGINT or SIGTERM, then shuts down gracefully:
 * no new requests, in-flight ones finish (up to --exit-timeout-secs), engines disposed.
 */
import { InputError } from '../errors';
import { InferenceServer } from '../serve/server';
import { flagString, parseCommand, type CommandSpec } from './args';
import { deviceIndex } from './engine-flags';

export const SPEC: CommandSpec = {
  name: 'serve',
  summary: 'An HTTP inference server for the KServe v2 / Open Inference Protocol (Triton\'s HTTP API): every model of a Triton-style model repository, with a dynamic batcher, JSON and binary tensors, and Prometheus metrics at /metrics.',
  usage: 'serve --model-repository=DIR [--port=N] [flags]',
  valueFlags: ['model-repository', 'port', 'http-port', 'http-address', 'device', 'max-body-bytes', 'exit-timeout-secs'],
  switches: [],
  help: {
    'model-repository': { value: 'DIR', description: 'the model repository: DIR/<model>/[<version>/]model.onnx|model.engine, optional DIR/<model>/config.json (docs/serve.md)' },
    port: { value: 'N', description: 'the HTTP port (0: any free port)', default: '8000' },
    'http-port': { value: 'N', description: 'Triton\'s name for --port' },
    'http-address': { value: 'ADDR', description: 'the address to listen on (0.0.0.0: every interface)', default: '127.0.0.1' },
    device: { value: 'N', description: 'the Vulkan device index (see `vkrt devices`)', default: 'the default device' },
    'max-body-bytes': { value: 'N', description: 'refuse request bodies larger than N bytes with 413', default: String(64 * 1024 * 1024) },
    'exit-timeout-secs': { value: 'S', description: 'on SIGINT/SIGTERM, wait up to S seconds for in-flight requests', default: '30' },
  },
  notes: [
    'Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/{m}[/versions/{v}][/ready|/config]; POST /v2/models/{m}[/versions/{v}]/infer; GET /metrics.',
    'Per-model settings (max_batch_size, preferred_batch_size, max_queue_delay_microseconds, instance_count, fp16, ...) go in DIR/<model>/config.json; see docs/serve.md.',
  ],
  examples: [
    'vkrt serve --model-repository=./models',
    'vkrt serve --model-repository=./models --port=8080 --http-address=0.0.0.0',
    'curl -s localhost:8000/v2/models/mobilenet',
  ],
};

function intFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`--${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const repo = flagString(args, 'model-repository');
  if (!repo) throw new InputError('serve: --model-repository=DIR is required; see `vkrt serve --help`');
  const port = intFlag(flagString(args, 'port') ?? flagString(args, 'http-port'), 'port', 0) ?? 8000;
  if (port > 65535) throw new InputError(`--port must be at most 65535, got ${port}`);
  const exitSecs = intFlag(flagString(args, 'exit-timeout-secs'), 'exit-timeout-secs', 0) ?? 30;
  const log = (line: string) => console.log(`[I] ${line}`);
  const server = await InferenceServer.start({
    modelRepository: repo,
    port,
    host: flagString(args, 'http-address') ?? '127.0.0.1',
    deviceIndex: deviceIndex(args),
    maxBodyBytes: intFlag(flagString(args, 'max-body-bytes'), 'max-body-bytes', 1),
    exitTimeoutMs: exitSecs * 1000,
    log,
    waitForModels: false,
  });
  log(`listening on ${server.url} (KServe v2 HTTP; metrics at ${server.url}/metrics)`);
  await server.whenLoaded();
  const states = server.modelStates();
  const failed = states.filter((s) => s.state !== 'ready');
  log(`${states.length - failed.length} of ${states.length} model${states.length === 1 ? '' : 's'} ready${failed.length ? `; not served: ${failed.map((s) => s.name).join(', ')}` : ''}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: shutting down`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await server.close();
  return 0;
}
