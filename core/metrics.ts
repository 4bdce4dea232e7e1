// Prometheus metrics (prom-client), served as text at /metrics (core/http.ts). One
// registry per process: the core's counters are defined here, core modules count where
// the event happens, and a plugin may register its own metrics on `metricsRegistry()`.
// Names follow the Prometheus conventions: `kotakpos_` prefix, `_total` for counters,
// base units (seconds, bytes).
//
// prom-client is loaded on the first scrape, not at start (a quiet server never needs it):
// until then counters and gauges add up per label set, and histogram observations wait in
// a short list (past HISTOGRAM_BACKLOG of them prom-client is loaded early). At load each
// metric is made with its definition and the waiting counts are replayed into it, so the
// names and values are those of prom-client from the start.
import type * as PromClient from "prom-client";
import type { Core } from "./types.ts";

type Labels = Record<string, string>;
interface MetricDef<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}
type Pc = typeof PromClient;
type Registry = PromClient.Registry;

/** Observations that may wait for prom-client before it is loaded anyway. */
export const HISTOGRAM_BACKLOG = 4096;

/** The Prometheus text format's content type (prom-client's Registry.PROMETHEUS_CONTENT_TYPE). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label set as a map key (label names sorted, as prom-client hashes them). */
const keyOf = (labels: Labels | undefined): string => {
  if (!labels) return "";
  let k = "";
  for (const n of Object.keys(labels).sort()) k += `${n}:${labels[n]},`;
  return k;
};

interface Lazy {
  /** Make the prom-client metric on `registry` and replay what waited. */
  attach(pc: Pc, registry: Registry): void;
}

/** Sums per label set, waiting for the real counter or gauge. */
class Pending {
  private sums = new Map<string, { labels: Labels | undefined; n: number }>();
  add(labels: Labels | undefined, n: number): void {
    const k = keyOf(labels);
    const e = this.sums.get(k);
    if (e) e.n += n;
    else this.sums.set(k, { labels, n });
  }
  /** Hand each sum to `inc` once, then forget them. */
  drain(inc: (labels: Labels | undefined, n: number) => void): void {
    for (const { labels, n } of this.sums.values()) inc(labels, n);
    this.sums.clear();
  }
}

/** What counters and gauges share: an `inc` with or without labels. */
interface Summable<L extends string> {
  inc(labels: Partial<Record<L, string>>, n?: number): void;
  inc(n?: number): void;
}

/** A counter or gauge: sums per label set until prom-client makes the real one. */
abstract class LazySum<L extends string, R extends Summable<L>> implements Lazy {
  private real: R | null = null;
  private pending = new Pending();
  constructor(protected readonly def: MetricDef<L>) {}
  protected abstract make(pc: Pc, registry: Registry): R;
  inc(labels?: Partial<Record<L, string>>, n = 1): void {
    if (this.real) labels ? this.real.inc(labels, n) : this.real.inc(n);
    else this.pending.add(labels as Labels | undefined, n);
  }
  attach(pc: Pc, registry: Registry): void {
    const real = this.make(pc, registry);
    this.pending.drain((labels, n) => (labels ? real.inc(labels as Partial<Record<L, string>>, n) : real.inc(n)));
    this.real = real;
  }
}

export class LazyCounter<L extends string = string> extends LazySum<L, PromClient.Counter<L>> {
  protected make(pc: Pc, registry: Registry): PromClient.Counter<L> {
    return new pc.Counter<L>({ ...this.def, registers: [registry] });
  }
}

export class LazyGauge<L extends string = string> extends LazySum<L, PromClient.Gauge<L>> {
  protected make(pc: Pc, registry: Registry): PromClient.Gauge<L> {
    return new pc.Gauge<L>({ ...this.def, registers: [registry] });
  }
  dec(labels?: Partial<Record<L, string>>, n = 1): void {
    this.inc(labels, -n);
  }
}

export class LazyHistogram<L extends string = string> implements Lazy {
  private real: PromClient.Histogram<L> | null = null;
  private pending: [Labels | undefined, number][] = [];
  constructor(
    private readonly def: MetricDef<L> & { buckets: number[] },
    private readonly loadEarly: () => void,
  ) {}
  observe(labels: Partial<Record<L, string>> | undefined, value: number): void {
    if (this.real) labels ? this.real.observe(labels, value) : this.real.observe(value);
    else if (this.pending.push([labels as Labels | undefined, value]) >= HISTOGRAM_BACKLOG) this.loadEarly();
  }
  /** Seconds from now to the returned function's call, observed then (prom-client's startTimer). */
  startTimer(labels?: Partial<Record<L, string>>): () => number {
    const t0 = process.hrtime.bigint();
    return () => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      this.observe(labels, s);
      return s;
    };
  }
  attach(pc: Pc, registry: Registry): void {
    const real = new pc.Histogram<L>({ ...this.def, registers: [registry] });
    for (const [labels, v] of this.pending) labels ? real.observe(labels as Partial<Record<L, string>>, v) : real.observe(v);
    this.pending = [];
    this.real = real;
  }
}

/** The metrics of one registry, made real together on the first `registry()`. */
export class MetricSet {
  private lazies: Lazy[] = [];
  private loading: Promise<Registry> | null = null;
  /** Run on the real registry once it exists (gauges collected per scrape). */
  private onLoad: ((pc: Pc, registry: Registry) => void)[] = [];
  counter<L extends string>(def: MetricDef<L>): LazyCounter<L> {
    return this.add(new LazyCounter(def));
  }
  gauge<L extends string>(def: MetricDef<L>): LazyGauge<L> {
    return this.add(new LazyGauge(def));
  }
  histogram<L extends string>(def: MetricDef<L> & { buckets: number[] }): LazyHistogram<L> {
    return this.add(new LazyHistogram(def, () => void this.registry()));
  }
  /** Metrics made only with the registry (e.g. gauges with a `collect`). */
  whenLoaded(fn: (pc: Pc, registry: Registry) => void): void {
    this.onLoad.push(fn);
  }
  /** Has prom-client been loaded (and the metrics made)? */
  loaded = false;
  /** prom-client's registry, loaded on the first call. */
  registry(): Promise<Registry> {
    this.loading ??= import("prom-client").then((pc) => {
      this.loaded = true;
      const registry = new pc.Registry();
      for (const m of this.lazies) m.attach(pc, registry);
      for (const fn of this.onLoad) fn(pc, registry);
      return registry;
    });
    return this.loading;
  }
  private add<M extends Lazy>(m: M): M {
    this.lazies.push(m);
    return m;
  }
}

const metrics = new MetricSet();

/** The process's registry (prom-client loads on the first call). */
export const metricsRegistry = (): Promise<Registry> => metrics.registry();

export const messagesReceived = metrics.counter({
  name: "kotakpos_messages_received_total",
  help: "Messages accepted (250 to DATA, APPEND, webmail sent …) and committed to the spool",
  labelNames: ["destination"] as const,
});

export const messagesDelivered = metrics.counter({ name: "kotakpos_messages_delivered_total", help: "Remote recipients delivered" });
export const messagesDeferred = metrics.counter({
  name: "kotakpos_messages_deferred_total",
  help: "Remote delivery attempts that failed temporarily, by reason class",
  labelNames: ["reason"] as const,
});
export const messagesBounced = metrics.counter({
  name: "kotakpos_messages_bounced_total",
  help: "Remote recipients that failed for good (a DSN was sent), by reason class",
  labelNames: ["reason"] as const,
});
export const deliveryLatency = metrics.histogram({
  name: "kotakpos_delivery_latency_seconds",
  help: "Time from accepting a message to its remote delivery",
  buckets: [0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 4 * 3600, 86400],
});
export const connections = metrics.counter({
  name: "kotakpos_connections_total",
  help: "Connections accepted, per listener",
  labelNames: ["listener"] as const,
});
export const connectionsRefused = metrics.counter({
  name: "kotakpos_connections_refused_total",
  help: "Connections refused before a session began, per listener and reason",
  labelNames: ["listener", "reason"] as const,
});
export const sessions = metrics.gauge({ name: "kotakpos_sessions", help: "Open sessions, per listener", labelNames: ["listener"] as const });
export const authFailures = metrics.counter({
  name: "kotakpos_auth_failures_total",
  help: "Failed logins, per service",
  labelNames: ["service"] as const,
});
export const dnsLatency = metrics.histogram({
  name: "kotakpos_dns_query_seconds",
  help: "DNS queries sent (cache misses), by record type",
  labelNames: ["type"] as const,
  buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

/** A few words for why a delivery failed, so the label set stays small. */
export function reasonClass(error: string): string {
  if (/^5\d\d\b/.test(error) || /\b5\.\d+\.\d+\b/.test(error)) return "smtp_5xx";
  if (/^4\d\d\b/.test(error) || /\b4\.\d+\.\d+\b/.test(error)) return "smtp_4xx";
  if (/mta-sts|dane|tlsa|certificate|tls|starttls/i.test(error)) return "tls";
  if (/ENOTFOUND|ENODATA|NXDOMAIN|SERVFAIL|\bdns\b|\bMX\b|no mail server/i.test(error)) return "dns";
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|timed? ?out|connect/i.test(error)) return "connection";
  if (/expired|too old|maxAge|gave up/i.test(error)) return "expired";
  return "other";
}

/** The running cores (one in production; tests start several in one process). */
const cores = new Set<Core>();
const sum = async (sql: string): Promise<number> => {
  let n = 0;
  for (const c of cores) n += Number((await c.db.query(sql)).rows[0]!.n ?? 0);
  return n;
};

// Gauges collected on each scrape from the database (cheap aggregate queries).
metrics.whenLoaded((pc, registry) => {
  new pc.Gauge({
    name: "kotakpos_queue_recipients",
    help: "Remote recipients waiting in the spool",
    registers: [registry],
    async collect() {
      this.set(await sum("SELECT count(*) AS n FROM spool WHERE status IN ('queued', 'inflight', 'deferred')"));
    },
  });
  new pc.Gauge({
    name: "kotakpos_queue_oldest_seconds",
    help: "Age of the oldest recipient waiting in the spool (0 when none)",
    registers: [registry],
    async collect() {
      let oldest = Infinity;
      for (const c of cores) {
        const v = (await c.db.query("SELECT min(created_at) AS n FROM spool WHERE status IN ('queued', 'inflight', 'deferred')")).rows[0]!.n;
        if (v !== null) oldest = Math.min(oldest, Number(v));
      }
      this.set(oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    },
  });
  new pc.Gauge({
    name: "kotakpos_store_messages",
    help: "Messages in all mailboxes",
    registers: [registry],
    async collect() {
      this.set(await sum("SELECT count(*) AS n FROM messages"));
    },
  });
  new pc.Gauge({
    name: "kotakpos_store_bytes",
    help: "Bytes of stored message blobs (referenced ones)",
    registers: [registry],
    async collect() {
      this.set(await sum("SELECT coalesce(sum(size), 0) AS n FROM blobs WHERE refcount > 0"));
    },
  });
});

/** Count a running core's delivery events (hooks) and include its database in the gauges. */
export function observeCore(core: Core): void {
  cores.add(core);
  core.onShutdown(() => void cores.delete(core));
  core.hooks.on(
    "delivered",
    async (info) => {
      messagesDelivered.inc();
      const row = (await core.spool.get(info.id)).find((r) => r.recipient === info.recipient);
      if (row) deliveryLatency.observe(undefined, Math.max(0, (Date.now() - row.createdAt) / 1000));
    },
    { plugin: "metrics" },
  );
  core.hooks.on("deferred", (info) => void messagesDeferred.inc({ reason: reasonClass(info.error) }), { plugin: "metrics" });
  core.hooks.on("bounced", (info) => void messagesBounced.inc({ reason: reasonClass(info.error) }), { plugin: "metrics" });
}

/** The text exposition (version 0.0.4); gauges are collected now. */
export const metricsText = async (): Promise<string> => (await metrics.registry()).metrics();
