import { expect, test } from "bun:test";
import { HISTOGRAM_BACKLOG, MetricSet, reasonClass } from "./metrics.ts";

test("delivery errors fall into a few reason classes", () => {
  expect(reasonClass("550 5.1.1 no such user")).toBe("smtp_5xx");
  expect(reasonClass("451 4.7.1 greylisted")).toBe("smtp_4xx");
  expect(reasonClass("connect ECONNREFUSED 192.0.2.1:25")).toBe("connection");
  expect(reasonClass("querySrv ENOTFOUND example.invalid")).toBe("dns");
  expect(reasonClass("MTA-STS policy enforce: certificate not valid")).toBe("tls");
  expect(reasonClass("something odd")).toBe("other");
});

/** The same events counted by a MetricSet (before and after its prom-client loads) and by
 *  prom-client metrics made at once: the exposition must be the same text. */
test("counts made before prom-client loads are replayed: the same text as prom-client's own", async () => {
  const pc = await import("prom-client");
  const eager = new pc.Registry();
  const c1 = new pc.Counter({ name: "t_plain_total", help: "plain", registers: [eager] });
  const c2 = new pc.Counter({ name: "t_labelled_total", help: "by a and b", labelNames: ["a", "b"] as const, registers: [eager] });
  const g = new pc.Gauge({ name: "t_open", help: "open now", labelNames: ["l"] as const, registers: [eager] });
  const h = new pc.Histogram({ name: "t_seconds", help: "time", labelNames: ["t"] as const, buckets: [0.1, 1, 10], registers: [eager] });
  const h0 = new pc.Histogram({ name: "t_plain_seconds", help: "time", buckets: [1, 5], registers: [eager] });

  const set = new MetricSet();
  const l1 = set.counter({ name: "t_plain_total", help: "plain" });
  const l2 = set.counter({ name: "t_labelled_total", help: "by a and b", labelNames: ["a", "b"] as const });
  const lg = set.gauge({ name: "t_open", help: "open now", labelNames: ["l"] as const });
  const lh = set.histogram({ name: "t_seconds", help: "time", labelNames: ["t"] as const, buckets: [0.1, 1, 10] });
  const lh0 = set.histogram({ name: "t_plain_seconds", help: "time", buckets: [1, 5] });

  const events = (n: number) => {
    c1.inc();
    l1.inc();
    c2.inc({ a: "x", b: String(n % 2) });
    l2.inc({ a: "x", b: String(n % 2) });
    g.inc({ l: "smtp" });
    lg.inc({ l: "smtp" });
    if (n % 3 === 0) {
      g.dec({ l: "smtp" });
      lg.dec({ l: "smtp" });
    }
    h.observe({ t: "mx" }, n / 7);
    lh.observe({ t: "mx" }, n / 7);
    h0.observe(n);
    lh0.observe(undefined, n);
  };
  for (let i = 0; i < 20; i++) events(i);
  expect(set.loaded).toBe(false);
  expect(await (await set.registry()).metrics()).toBe(await eager.metrics());
  for (let i = 20; i < 30; i++) events(i);
  expect(await (await set.registry()).metrics()).toBe(await eager.metrics());
  const end = lh.startTimer({ t: "a" });
  expect(end()).toBeGreaterThanOrEqual(0);
  expect(await (await set.registry()).metrics()).toContain('t_seconds_count{t="a"} 1');
});

test("a long backlog of histogram observations loads prom-client early", async () => {
  const set = new MetricSet();
  const h = set.histogram({ name: "t_backlog_seconds", help: "time", buckets: [1] });
  for (let i = 0; i < HISTOGRAM_BACKLOG - 1; i++) h.observe(undefined, 0.5);
  expect(set.loaded).toBe(false);
  h.observe(undefined, 2);
  await Bun.sleep(50);
  expect(set.loaded).toBe(true);
  const text = await (await set.registry()).metrics();
  expect(text).toContain(`t_backlog_seconds_bucket{le="1"} ${HISTOGRAM_BACKLOG - 1}`);
  expect(text).toContain(`t_backlog_seconds_count ${HISTOGRAM_BACKLOG}`);
});
