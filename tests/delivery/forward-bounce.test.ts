// A forward that fails comes back to the right person: Bob at b.test writes to
// fwd@a.test, an alias forwarding to a domain with a null MX. A rewrites the envelope
// sender with SRS, fails at once, bounces to its own SRS address, and the aliases plugin
// reverses that to bob@b.test — the bounce lands in Bob's INBOX at B.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { eq } from "drizzle-orm";
import { spool } from "../../core/db/schema.ts";
import { addAlias } from "../../plugins/aliases/admin.ts";
import type { TestServer } from "../helpers/server.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { ALICE, BOB, inbox, startDnsFor, startSide, twoPorts, until } from "../helpers/pair.ts";

let dns: TestDns;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  dns = await startDnsFor("a.test", "b.test");
  dns.set("nomail.test", { MX: [{ exchange: "", priority: 0 }] });
  const [pa, pb] = await twoPorts();
  [a, b] = await Promise.all([startSide("a.test", ALICE, pa, pb, dns), startSide("b.test", BOB, pb, pa, dns)]);
  await addAlias(a.core, { address: "fwd@a.test", targets: ["someone@nomail.test"] });
});
afterAll(async () => {
  for (const s of [a, b]) {
    await s?.cleanup();
    if (s) rmSync(s.dataDir, { recursive: true, force: true });
  }
  await dns?.close();
});

test("the bounce of a failed forward reaches the original sender through SRS", async () => {
  const p = Bun.spawn(
    [
      "python3",
      "-c",
      `
import smtplib
from email.message import EmailMessage
m = EmailMessage(); m["From"] = "${BOB.address}"; m["To"] = "fwd@a.test"; m["Subject"] = "please forward"
m.set_content("to whoever reads fwd@")
with smtplib.SMTP("127.0.0.1", ${b.port("submission")}) as s:
    s.login("${BOB.address}", "${BOB.password}")
    s.send_message(m)
print("sent")
`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  expect(await p.exited).toBe(0);
  expect(out + err).toContain("sent");

  // At A the forward was queued with an SRS sender and failed (null MX).
  const fwd = await until("failed forward", async () => (await a.core.db.orm.select().from(spool).where(eq(spool.recipient, "someone@nomail.test"))).find((r) => r.status === "failed"));
  expect(fwd.mailFrom).toMatch(/^SRS0=.*=b\.test=bob@a\.test$/i);

  const bounce = await until("bounce in Bob's INBOX", async () => (await inbox(b, BOB.address)).find((m) => m.includes("please forward") && /multipart\/report/i.test(m)));
  expect(bounce).toContain("someone@nomail.test");
  expect(bounce).toMatch(/Action: failed/);
});
