/**
 * The server's metrics in the Prometheus text exposition format (version 0.0.4), served at
 * GET /metrics. Per model and version: requests that succeeded and failed (by reason), inferences
 * (rows) and executions (batches), and histograms of request, queue and compute time (seconds)
 * and of batch size (rows per execution); plus the queue depth and the executions running now.
 */

const TIME_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++;
  }
}

/** The metrics of one model version. */
export class ModelMetrics {
  success = 0;
  readonly failures = new Map<string, number>();
  inferences = 0;
  executions = 0;
  readonly requestSeconds = new Histogram(TIME_BUCKETS);
  readonly queueSeconds = new Histogram(TIME_BUCKETS);
  readonly computeSeconds = new Histogram(TIME_BUCKETS);
  readonly batchSize = new Histogram(BATCH_BUCKETS);

  constructor(readonly model: string, readonly version: string, readonly gauges: () => { queued: number; executing: number }) {}

  fail(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }
}

/** A label value escaped per the text format. */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

/** The text of GET /metrics. */
export function renderMetrics(models: readonly ModelMetrics[]): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, rows: (m: ModelMetrics, base: string) => string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const m of models) rows(m, `model="${label(m.model)}",version="${label(m.version)}"`).forEach((r) => out.push(r));
  };
  const histogram = (name: string, help: string, pick: (m: ModelMetrics) => Histogram) =>
    family(name, 'histogram', help, (m, base) => {
      const h = pick(m);
      const rows = h.buckets.map((b, i) => `${name}_bucket{${base},le="${num(b)}"} ${h.counts[i]}`);
      rows.push(`${name}_bucket{${base},le="+Inf"} ${h.count}`, `${name}_sum{${base}} ${num(h.sum)}`, `${name}_count{${base}} ${h.count}`);
      return rows;
    });
  family('vkrt_inference_request_success_total', 'counter', 'Inference requests answered with outputs.', (m, base) => [`vkrt_inference_request_success_total{${base}} ${m.success}`]);
  family('vkrt_inference_request_failure_total', 'counter', 'Inference requests that failed, by reason (bad_request, not_found, queue_full, timeout, unavailable, too_large, engine, cancelled).', (m, base) =>
    [...m.failures].sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `vkrt_inference_request_failure_total{${base},reason="${label(reason)}"} ${n}`));
  family('vkrt_inference_count_total', 'counter', 'Inferences performed (rows of successful requests; a request of batch 4 counts 4).', (m, base) => [`vkrt_inference_count_total{${base}} ${m.inferences}`]);
  family('vkrt_inference_exec_count_total', 'counter', 'Model executions (batches run).', (m, base) => [`vkrt_inference_exec_count_total{${base}} ${m.executions}`]);
  family('vkrt_inference_pending_requests', 'gauge', 'Requests waiting in the queue now.', (m, base) => [`vkrt_inference_pending_requests{${base}} ${m.gauges().queued}`]);
  family('vkrt_inference_executing_batches', 'gauge', 'Batches executing now.', (m, base) => [`vkrt_inference_executing_batches{${base}} ${m.gauges().executing}`]);
  histogram('vkrt_inference_request_duration_seconds', 'Time from receiving a request to its response being ready, successful requests.', (m) => m.requestSeconds);
  histogram('vkrt_inference_queue_duration_seconds', 'Time requests waited in the queue.', (m) => m.queueSeconds);
  histogram('vkrt_inference_compute_duration_seconds', 'Execution time of the batch each request ran in (inputs in to outputs out).', (m) => m.computeSeconds);
  histogram('vkrt_inference_batch_size', 'Rows per execution (before padding to an engine batch size).', (m) => m.batchSize);
  return out.join('\n') + '\n';
}
