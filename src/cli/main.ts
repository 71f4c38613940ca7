#!/usr/bin/env node
/**
 * The `vkrt` command. Each subcommand lives in its own module under src/cli/ and exports
 * `run(argv: string[]): Promise<number>` (the exit code). Errors print one line (the stack only
 * with --verbose) and exit non-zero; the process never dies of a signal on bad input.
 */
import { VkrtError } from '../errors';
import { packageVersion } from '../gpu/assets';

export const COMMANDS: Record<string, { module: string; summary: string }> = {
  devices: { module: './devices', summary: 'list Vulkan devices and their capabilities (--json)' },
  selftest: { module: './selftest', summary: 'run a native self-test on a device' },
  conformance: { module: './conformance', summary: 'run ONNX backend node tests (--backend=reference|vulkan)' },
  demo: { module: './demo', summary: 'build and run the bundled default model, checked against the reference' },
  exec: { module: './exec', summary: 'build (--onnx) or load (--loadEngine) an engine, benchmark and profile it (trtexec flags)' },
  inspect: { module: './inspect', summary: 'layers, kernels, precisions, shapes and memory plan of an engine file or ONNX model (--json)' },
  quantize: { module: './quantize', summary: 'write the Q/DQ (int8) model of a float model from calibration data, and its calibration cache' },
  compare: { module: './compare', summary: 'engine vs reference accuracy per output (--fp16, --layerwise)' },
  serve: { module: './serve', summary: 'KServe v2 / Triton HTTP inference server over a model repository, with dynamic batching' },
};

function usage(): string {
  const lines = ['usage: vkrt <command> [flags]', '       vkrt <command> --help    (the flags of a command, their defaults and examples)', '       vkrt --version', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(13)} ${c.summary}`);
  return lines.join('\n');
}

/** Builder messages speak the API (inputShapes: { x: [1, 3] }); the CLI's word for it is --shapes. */
export function inCliTerms(message: string): string {
  return message
    .replace(/inputShapes: \{ ([^:{}]+): \[([\d, ]+)\] \}( \(InferenceSession: [^)]*\))?/g, (_m, name: string, dims: string) => `--shapes=${name}:${dims.split(',').map((d) => d.trim()).join('x')}`)
    .replace(/BuilderConfig\.inputShapes \(CLI: --shapes\)/g, '--shapes');
}

/**
 * An error message on one line: detail lines (such as the list of unsupported nodes) are kept,
 * joined with ' | ', so scripts can rely on one line per failure.
 */
export function oneLine(message: string): string {
  return message.split(/\r?\n/).map((l) => l.trim()).filter((l) => l).join(' | ');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V') {
    console.log(packageVersion());
    return 0;
  }
  if (cmd === 'help' && rest.length === 1 && COMMANDS[rest[0]]) return main([rest[0], '--help']);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage());
    return cmd ? 0 : 1;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    console.error(`vkrt: unknown ${cmd.startsWith('-') ? 'flag' : 'command'} '${cmd}'\n${usage()}`);
    return 2;
  }
  const verbose = rest.includes('--verbose') || !!process.env.VKRT_DEBUG;
  try {
     
    const mod = require(entry.module) as { run(args: string[]): Promise<number> };
    return await mod.run(rest);
  } catch (e) {
    const err = e as Error;
    const label = e instanceof VkrtError ? `error [${e.code}]` : 'error';
    console.error(`vkrt ${cmd}: ${label}: ${inCliTerms(oneLine(String(err?.message ?? e)))}`);
    if (verbose) console.error(err?.stack ?? String(e));
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => { console.error(`vkrt: ${(e as Error).message}`); process.exitCode = 1; },
  );
}
