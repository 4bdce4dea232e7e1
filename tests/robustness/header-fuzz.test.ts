// Fuzz target for header sections (issue 11): seeded random header sections — folding,
// huge and tiny fields, thousands of fields, odd From/Sender syntax, NULs, bare CR/LF,
// 8-bit bytes — through every piece of header code that runs on the event loop (the
// bounds check, the SMTP header parser, the author check, mailauth's raw header parser,
// forged-A-R detection, DKIM signing) and, for those that pass the bounds, the inbound
// checks in their worker. Budget: no input may take more than 1 s of event-loop time.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { availableParallelism } from "node:os";
import { createLogger } from "../../core/log.ts";
import { CheckDeadlineError, createCheckPool, type CheckPool } from "../../plugins/mailauth/check-pool.ts";
import { dkimSign } from "../../plugins/mailauth/dkim-sign.ts";
import { forgedResults } from "../../plugins/mailauth/forged.ts";
import { fromDomain, parseRawHeader } from "../../plugins/mailauth/header.ts";
import { newKeyPair } from "../../plugins/mailauth/keys.ts";
import { authorsOf } from "../../plugins/smtp/authors.ts";
import { checkHeaderBounds } from "../../plugins/smtp/header-bounds.ts";
import { parseHeaders } from "../../plugins/smtp/headers.ts";

const BUDGET_MS = 1000;
const LIMITS = { maxSection: 1024 * 1024, maxField: 64 * 1024 };
let pool: CheckPool;
let key: Parameters<typeof dkimSign>[1][number];

beforeAll(async () => {
  const kp = await newKeyPair("rsa-sha256");
  key = { domain: "example.test", selector: "s1", algorithm: "rsa-sha256", privateKey: createPrivateKey(kp.privateKey) };
  pool = createCheckPool({
    // As the plugin sizes it: a core left to the event loop.
    workers: Math.max(1, availableParallelism() - 1),
    deadlineMs: 20_000,
    resolver: async (name, rrtype) => {
      throw Object.assign(new Error(`${rrtype} ${name}: not found`), { code: "ENOTFOUND" });
    },
    log: createLogger("error"),
  });
});
afterAll(() => pool.close());

function rng(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const NAMES = ["From", "Sender", "To", "Cc", "Subject", "Received", "DKIM-Signature", "Authentication-Results", "ARC-Seal", "Message-ID", "X-Junk", "Content-Type", "from", "FROM "];
const ATOMS = [
  '"a@b.test" <c@d.test>',
  "x@example.test",
  "(comment (nested) \\) x)",
  "=?utf-8?b?w7w=?=",
  "<",
  ">",
  ",",
  ";",
  ":",
  "grp:;",
  "@",
  '"',
  "\\",
  "\0",
  "\r",
  "\n",
  "ü",
  "\xff",
  "mx.example.test; spf=pass",
  "v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=; b=",
];

/** One random header section (CRLF lines, maybe folded), then a small body. */
function headerSection(r: () => number): Buffer {
  const shape = r();
  const fields: string[] = [];
  const field = (name: string, value: string) => fields.push(`${name}: ${value}`);
  const value = (n: number) => {
    let v = "";
    for (let i = 0; i < n; i++) v += ATOMS[Math.floor(r() * ATOMS.length)] + (r() < 0.2 ? "\r\n " : " ");
    return v;
  };
  if (shape < 0.1) {
    // One huge folded field, up to 4 MB (over the field and section bounds).
    const unit = "user00000@example.test,\r\n ";
    field(r() < 0.5 ? "To" : "From", unit.repeat(Math.floor(r() * 160_000)));
  } else if (shape < 0.2) {
    // Many small fields, up to ~2 MB.
    for (let i = Math.floor(r() * 60_000); i > 0; i--) field(`X-F${i}`, "v".repeat(Math.floor(r() * 30)));
  } else if (shape < 0.3) {
    // Fields just under the per-field bound, up to the section bound.
    for (let i = 0; i < 15; i++) field(NAMES[Math.floor(r() * NAMES.length)]!, "a".repeat(LIMITS.maxField - 100));
  } else if (shape < 0.35) {
    // A From list of thousands of mailboxes within the field bound.
    field("From", Array.from({ length: 2500 }, (_, i) => `u${i}@e.test`).join(","));
  } else {
    for (let i = Math.floor(r() * 40); i > 0; i--) field(NAMES[Math.floor(r() * NAMES.length)]!, value(Math.floor(r() * 30)));
  }
  const sep = r() < 0.9 ? "\r\n\r\n" : "\r\n";
  return Buffer.from(fields.join("\r\n") + sep + "body line\r\n.dot\r\n", "latin1");
}

/** Everything that reads a header section on the event loop. */
function mainThreadWork(raw: Buffer): void {
  if (checkHeaderBounds(raw, LIMITS)) return;
  parseHeaders(raw);
  authorsOf(raw);
  const { fields } = parseRawHeader(raw);
  forgedResults(fields, "mx.example.test");
  fromDomain(fields);
  dkimSign(raw, [key]);
}

test("fuzz: 300 random header sections, each within 1 s of event-loop time; checks off the loop stay within budget too", async () => {
  const r = rng(20261203);
  let worst = 0;
  let worstSize = 0;
  let bounded = 0;
  const inWorker: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const raw = headerSection(r);
    const t0 = performance.now();
    expect(() => mainThreadWork(raw)).not.toThrow();
    const ms = performance.now() - t0;
    if (ms > worst) [worst, worstSize] = [ms, raw.length];
    expect({ input: i, size: raw.length, ms: ms < BUDGET_MS ? "ok" : ms }).toEqual({ input: i, size: raw.length, ms: "ok" });
    if (checkHeaderBounds(raw, LIMITS)) bounded++;
    else if (inWorker.length < 24 && (raw.length > 100_000 || r() < 0.1)) inWorker.push(raw);
  }
  // The inbound checks (mailauth) in their worker: the loop keeps ticking meanwhile.
  let last = performance.now();
  let lag = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last);
    last = now;
  }, 10);
  const results = await Promise.allSettled(inWorker.map((raw) => pool.check({ raw, ip: "192.0.2.1", helo: "fuzz.test", mailFrom: "a@fuzz.test", hostname: "mx.example.test" })));
  clearInterval(iv);
  console.log(
    `header fuzz: worst event-loop time ${worst.toFixed(1)} ms (input of ${worstSize} bytes); ${bounded}/300 refused by the bounds; ${inWorker.length} checked in the worker (${results.filter((x) => x.status === "fulfilled").length} completed), longest event-loop stall meanwhile ${lag.toFixed(0)} ms`,
  );
  expect(worst).toBeLessThan(BUDGET_MS);
  expect(lag).toBeLessThan(BUDGET_MS);
  // Each check ends: with a result, or stopped at its deadline (a loaded machine) — never
  // another failure.
  for (const x of results) if (x.status === "rejected") expect(x.reason).toBeInstanceOf(CheckDeadlineError);
}, 120_000);
