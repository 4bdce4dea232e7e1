// Prometheus metrics (prom-client), served as text at /metrics (core/http.ts). One
// registry per process: the core's counters are defined here, core modules count where
// the event happens, and a plugin may register its own metrics on `registry`.
// Names follow the Prometheus conventions: `kotakpos_` prefix, `_total` for counters,
// base units (seconds, bytes).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Core } from "./types.ts";

export const registry = new Registry();

export const messagesReceived = new Counter({
  name: "kotakpos_messages_received_total",
  help: "Messages accepted (250 to DATA, APPEND, webmail sent …) and committed to the spool",
  labelNames: ["destination"] as const,
  registers: [registry],
});

export const messagesDelivered = new Counter({ name: "kotakpos_messages_delivered_total", help: "Remote recipients delivered", registers: [registry] });
export const messagesDeferred = new Counter({
  name: "kotakpos_messages_deferred_total",
  help: "Remote delivery attempts that failed temporarily, by reason class",
  labelNames: ["reason"] as const,
  registers: [registry],
});
export const messagesBounced = new Counter({
  name: "kotakpos_messages_bounced_total",
  help: "Remote recipients that failed for good (a DSN was sent), by reason class",
  labelNames: ["reason"] as const,
  registers: [registry],
});
export const deliveryLatency = new Histogram({
  name: "kotakpos_delivery_latency_seconds",
  help: "Time from accepting a message to its remote delivery",
  buckets: [0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 4 * 3600, 86400],
  registers: [registry],
});
export const connections = new Counter({
  name: "kotakpos_connections_total",
  help: "Connections accepted, per listener",
  labelNames: ["listener"] as const,
  registers: [registry],
});
export const connectionsRefused = new Counter({
  name: "kotakpos_connections_refused_total",
  help: "Connections refused before a session began, per listener and reason",
  labelNames: ["listener", "reason"] as const,
  registers: [registry],
});
export const sessions = new Gauge({ name: "kotakpos_sessions", help: "Open sessions, per listener", labelNames: ["listener"] as const, registers: [registry] });
export const authFailures = new Counter({
  name: "kotakpos_auth_failures_total",
  help: "Failed logins, per service",
  labelNames: ["service"] as const,
  registers: [registry],
});
export const dnsLatency = new Histogram({
  name: "kotakpos_dns_query_seconds",
  help: "DNS queries sent (cache misses), by record type",
  labelNames: ["type"] as const,
  buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
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
new Gauge({
  name: "kotakpos_queue_recipients",
  help: "Remote recipients waiting in the spool",
  registers: [registry],
  async collect() {
    this.set(await sum("SELECT count(*) AS n FROM spool WHERE status IN ('queued', 'inflight', 'deferred')"));
  },
});
new Gauge({
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
new Gauge({
  name: "kotakpos_store_messages",
  help: "Messages in all mailboxes",
  registers: [registry],
  async collect() {
    this.set(await sum("SELECT count(*) AS n FROM messages"));
  },
});
new Gauge({
  name: "kotakpos_store_bytes",
  help: "Bytes of stored message blobs (referenced ones)",
  registers: [registry],
  async collect() {
    this.set(await sum("SELECT coalesce(sum(size), 0) AS n FROM blobs WHERE refcount > 0"));
  },
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
      if (row) deliveryLatency.observe(Math.max(0, (Date.now() - row.createdAt) / 1000));
    },
    { plugin: "metrics" },
  );
  core.hooks.on("deferred", (info) => void messagesDeferred.inc({ reason: reasonClass(info.error) }), { plugin: "metrics" });
  core.hooks.on("bounced", (info) => void messagesBounced.inc({ reason: reasonClass(info.error) }), { plugin: "metrics" });
}

/** The text exposition (version 0.0.4); gauges are collected now. */
export const metricsText = (): Promise<string> => registry.metrics();

export const METRICS_CONTENT_TYPE = registry.contentType;
