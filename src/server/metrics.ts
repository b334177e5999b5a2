// Prometheus text-format metrics (exposition format 0.0.4): requests by route and status,
// operations by mechanism and outcome, a latency histogram, and gauges read at scrape time.
// Labels are bounded (route templates, catalogue mechanisms), so cardinality stays fixed.

import type { RequestObservation } from '../frontends/rest/app.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #operations = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  readonly #gauges: () => Record<string, number>;

  constructor(gauges: () => Record<string, number>) {
    this.#gauges = gauges;
  }

  observe(o: RequestObservation): void {
    const rk = `route="${label(o.route)}",method="${o.method}",status="${o.status}"`;
    this.#requests.set(rk, (this.#requests.get(rk) ?? 0) + 1);
    if (o.mechanism) {
      const outcome = o.status < 400 ? 'ok' : o.status < 500 ? 'refused' : 'failed';
      const ok = `mechanism="${label(o.mechanism.toUpperCase())}",outcome="${outcome}"`;
      this.#operations.set(ok, (this.#operations.get(ok) ?? 0) + 1);
    }
    const hk = `route="${label(o.route)}"`;
    const h = this.#latency.get(hk) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((b, i) => {
      if (o.seconds <= b) h.counts[i]!++;
    });
    h.sum += o.seconds;
    h.count++;
    this.#latency.set(hk, h);
  }

  render(): string {
    const lines: string[] = [];
    lines.push('# HELP coffer_http_requests_total REST requests by route, method and status.', '# TYPE coffer_http_requests_total counter');
    for (const [k, v] of this.#requests) lines.push(`coffer_http_requests_total{${k}} ${v}`);
    lines.push('# HELP coffer_operations_total Cryptographic operations by mechanism and outcome.', '# TYPE coffer_operations_total counter');
    for (const [k, v] of this.#operations) lines.push(`coffer_operations_total{${k}} ${v}`);
    lines.push('# HELP coffer_http_request_duration_seconds REST request latency.', '# TYPE coffer_http_request_duration_seconds histogram');
    for (const [k, h] of this.#latency) {
      for (const [i, b] of BUCKETS.entries()) lines.push(`coffer_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`);
      lines.push(`coffer_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      lines.push(`coffer_http_request_duration_seconds_sum{${k}} ${h.sum}`);
      lines.push(`coffer_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    for (const [name, v] of Object.entries(this.#gauges())) {
      lines.push(`# TYPE coffer_${name} gauge`, `coffer_${name} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
