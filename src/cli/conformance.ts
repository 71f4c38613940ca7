/**
 * `vkrt conformance DIR... [--backend=reference|vulkan] [--filter=REGEX] [--json=FILE]
 *   [--policy=FILE] [--workers=N] [--timeout=SECONDS] [--failures]`
 * Runs ONNX backend node tests and ends with `N passed, N failed, N skipped`.
 * `--write-known-failures=FILE` records every test that does not pass, with its error as the reason,
 * as a policy file (review it: each entry should say why, and the list should only shrink).
 */
import * as fs from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { loadPolicy, runConformance } from '../conformance/runner';
import { flagString, parseCommand, type CommandSpec } from './args';

/** The policy folder shipped with the package (known failures and tolerance overrides). */
export function defaultPolicyFile(): string {
  return path.resolve(__dirname, '..', '..', 'test', 'conformance', 'policy');
}

export const SPEC: CommandSpec = {
  name: 'conformance',
  summary: 'Runs ONNX backend node test folders (model.onnx + test_data_set_*), prints a per-op table and `N passed, N failed, N skipped`; exit 1 on a failure not in the policy.',
  usage: 'conformance DIR... [flags]',
  valueFlags: ['backend', 'filter', 'json', 'policy', 'workers', 'timeout', 'write-known-failures'],
  switches: ['failures', 'hostFallback'],
  help: {
    backend: { value: 'reference|vulkan', description: 'run on the CPU reference interpreter or on the GPU', default: 'reference' },
    filter: { value: 'REGEX', description: 'only the tests whose name matches' },
    json: { value: 'FILE', description: 'write every result as JSON' },
    policy: { value: 'FILE', description: 'known failures and tolerance overrides', default: 'test/conformance/policy' },
    workers: { value: 'N', description: 'worker processes', default: 'the CPU count' },
    timeout: { value: 'S', description: 'seconds per test before it counts as failed' },
    'write-known-failures': { value: 'FILE', description: 'write every test that does not pass, with its error, as a policy file' },
    failures: { description: 'print each failure as it happens' },
    hostFallback: { description: 'vulkan: run nodes the GPU cannot run on the CPU reference; passes that needed it are counted apart' },
  },
  positionals: { text: 'DIR...: folders of ONNX backend tests (e.g. .data/onnx-node).', min: 1, max: Infinity },
  examples: ['vkrt conformance .data/onnx-node', 'vkrt conformance .data/onnx-node --backend=vulkan --filter=conv --failures', 'vkrt conformance .data/onnx-node --backend=vulkan --hostFallback'],
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  for (const d of args.positional) if (!fs.existsSync(d)) throw new InputError(`no such folder: ${d} (unpack the suite with ../shared/data/unpack.sh .data)`);
  const backend = flagString(args, 'backend') ?? 'reference';
  const filterSrc = flagString(args, 'filter');
  let filter: RegExp | undefined;
  try {
    filter = filterSrc ? new RegExp(filterSrc) : undefined;
  } catch (e) {
    throw new InputError(`--filter is not a valid regular expression: ${(e as Error).message}`);
  }
  const policyFile = flagString(args, 'policy') ?? defaultPolicyFile();
  const policy = loadPolicy(policyFile, backend);
  const showFailures = args.flags.has('failures') || args.flags.has('verbose');
  const workers = flagString(args, 'workers') ? Number(flagString(args, 'workers')) : undefined;
  const timeout = flagString(args, 'timeout') ? Number(flagString(args, 'timeout')) * 1000 : undefined;
  const hostFallback = args.flags.has('hostFallback');
  if (hostFallback && backend !== 'vulkan') throw new InputError('--hostFallback applies to --backend=vulkan (the reference runs every node on the host already)');
  const summary = await runConformance(args.positional, {
    backend, filter, policy, workers, timeoutMs: timeout, hostFallback,
    onResult: (r) => {
      if (showFailures && r.final === 'fail') console.log(`FAIL ${r.name}: ${r.code ? `[${r.code}] ` : ''}${r.message}`);
      if (showFailures && r.final === 'pass' && r.fallback) console.log(`PASS ${r.name} with ${r.fallback} node(s) on the host`);
    },
  });
  const rows = [...summary.perOp.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  console.log(`\nper-op summary (${backend}; a test counts for every op in its model):`);
  console.log(`${'op'.padEnd(36)} ${'pass'.padStart(5)} ${'fail'.padStart(5)} ${'skip'.padStart(5)}`);
  for (const [op, c] of rows) console.log(`${op.padEnd(36)} ${String(c.passed).padStart(5)} ${String(c.failed).padStart(5)} ${String(c.skipped).padStart(5)}`);
  if (summary.unexpectedPasses.length) {
    console.log(`\n${summary.unexpectedPasses.length} known failure(s) now pass; remove them from ${policyFile}: ${summary.unexpectedPasses.join(', ')}`);
  }
  const pct = summary.total ? ((100 * summary.passed) / summary.total).toFixed(1) : '0';
  console.log(`\n${backend}: ${summary.passed}/${summary.total} passed (${pct}%)`);
  if (hostFallback) {
    const gpuPct = summary.total ? ((100 * (summary.passed - summary.fallbackPassed)) / summary.total).toFixed(1) : '0';
    console.log(`${backend}: ${summary.passed - summary.fallbackPassed} passed with every node on a GPU kernel (${gpuPct}%), ${summary.fallbackPassed} passed with host fallback`);
  }
  const json = flagString(args, 'json');
  if (json) {
    fs.writeFileSync(json, JSON.stringify({
      backend, hostFallback, passed: summary.passed, fallbackPassed: summary.fallbackPassed, failed: summary.failed, skipped: summary.skipped, total: summary.total,
      perOp: Object.fromEntries(summary.perOp),
      results: summary.results.map((r) => ({ name: r.name, status: r.final, fallback: r.fallback, code: r.code, message: r.message, reason: r.reason, ops: r.ops, ms: Math.round(r.ms) })),
    }, null, 1));
  }
  const kf = flagString(args, 'write-known-failures');
  if (kf) {
    const reasons: Record<string, string> = {};
    for (const r of summary.results) {
      if (r.final === 'pass') continue;
      const msg = (r.reason ?? `${r.code ? `[${r.code}] ` : ''}${r.message ?? ''}`).replace(/\s+/g, ' ').slice(0, 300);
      reasons[r.name] = msg;
    }
    fs.writeFileSync(kf, JSON.stringify({ knownFailures: { [backend]: reasons } }, null, 1) + '\n');
    console.log(`${Object.keys(reasons).length} known failures written to ${kf}`);
  }
  console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return summary.failed > 0 ? 1 : 0;
}
