// /metrics: Prometheus text format, parsed by the official Python client's parser
// (Debian python3-prometheus-client); 401 without the token; counters move with SMTP
// traffic; the separate metrics.listen listener serves it without a token.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { pySend } from "../helpers/smtp.ts";
import { python } from "../helpers/imap.ts";
import { freeOffset } from "../helpers/binary.ts";

let s: TestServer;
let metricsPort = 0;
beforeAll(async () => {
  metricsPort = (await freeOffset()) + 9;
  s = await startTestServer({
    users: [{ address: "ann@example.test", password: "ann-pw" }],
    config: { plugins: { disabled: ["mailauth"] }, metrics: { listen: `127.0.0.1:${metricsPort}` } },
  });
});
afterAll(() => s.cleanup());

const PARSE = `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for smp in fam.samples:
        key = smp.name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(smp.labels.items())) + "}" if smp.labels else "")
        out[key] = smp.value
print(json.dumps(out))
`;

/** Scrape and parse with the Prometheus client's own parser. */
async function scrape(url: string, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const r = await fetch(url, { headers });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await r.text();
  const p = Bun.spawn(["/usr/bin/python3", "-c", PARSE], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`the Prometheus parser refused /metrics: ${err}`);
  return JSON.parse(out) as Record<string, number>;
}

test("/metrics parses, needs the token, and its counters move after SMTP traffic", async () => {
  const base = `http://127.0.0.1:${s.port("http")}`;
  const token = readFileSync(join(s.dataDir, "admin.token"), "utf8").trim();
  expect((await fetch(`${base}/metrics`)).status).toBe(401);
  expect((await fetch(`${base}/metrics`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
  const auth = { authorization: `Bearer ${token}` };
  const before = await scrape(`${base}/metrics`, auth);
  for (const name of ["kotakpos_queue_recipients", "kotakpos_queue_oldest_seconds", "kotakpos_store_messages", "kotakpos_store_bytes"]) expect(before[name]).toBeNumber();

  for (let i = 0; i < 3; i++) {
    const r = await pySend(s.port("smtp"), { from: "x@remote.test", to: ["ann@example.test"], msg: `Subject: m${i}\r\n\r\nhello\r\n` });
    expect(r.ok).toBe(true);
  }
  await python(
    `
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
try:
    c.login("ann@example.test", "wrong")
except imaplib.IMAP4.error:
    pass
c.logout()
`,
    [String(s.port("imap"))],
  );
  const after = await scrape(`${base}/metrics`, auth);
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  expect(d('kotakpos_messages_received_total{destination="local"}')).toBe(3);
  expect(d('kotakpos_connections_total{listener="smtp"}')).toBe(3);
  expect(d('kotakpos_auth_failures_total{service="imap"}')).toBe(1);
  expect(d("kotakpos_store_messages")).toBe(3);
  expect(d("kotakpos_store_bytes")).toBeGreaterThan(0);

  // the separate listener: no token, only /metrics
  const plain = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(plain['kotakpos_messages_received_total{destination="local"}']).toBe(after['kotakpos_messages_received_total{destination="local"}']!);
  expect((await fetch(`http://127.0.0.1:${metricsPort}/api/admin/domains`)).status).toBe(404);
});
