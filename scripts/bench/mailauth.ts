// mailauth benchmark: messages/s for DKIM signing (RSA-2048 + Ed25519 per message, as sent)
// and for the full inbound check (SPF + HELO SPF + DKIM ×2 + ARC + DMARC) on 10 KiB
// messages, with an in-memory resolver (CPU cost) and over a dns2 test server on
// 127.0.0.1 (20 checks in flight). Prints ONE JSON line.
import { createResolver } from "../../core/dns/index.ts";
import { dkimSign } from "../../plugins/mailauth/dkim-sign.ts";
import { checkInbound, type MailauthResolver } from "../../plugins/mailauth/inbound.ts";
import { startTestDns } from "../../tests/helpers/dns-server.ts";
import { makeKey, message } from "../../tests/mailauth/fixtures.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCY = 20;

const rsa = await makeKey("sender.test", "k2026a", "rsa-sha256");
const ed = await makeKey("sender.test", "e2026a", "ed25519-sha256");
const line = "The quick brown fox jumps over the lazy dog, again and again.  \r\n";
const msg = message("news@sender.test", { body: line.repeat(Math.ceil(10240 / line.length)) });

const zone: Record<string, string[]> = {
  "sender.test": ["v=spf1 ip4:127.0.0.1 -all"],
  "_dmarc.sender.test": ["v=DMARC1; p=reject"],
  "helo.sender.test": ["v=spf1 ip4:127.0.0.1 -all"],
  [rsa.name]: [rsa.record],
  [ed.name]: [ed.record],
};

/** Runs fn repeatedly (n at a time) for SECONDS; returns completions per second. */
async function rate(fn: () => Promise<unknown> | unknown, inFlight = 1): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm up
  let done = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await fn();
        done++;
      }
    }),
  );
  return Math.round(done / ((performance.now() - start) / 1000));
}

const signBoth = await rate(() => dkimSign(msg, [rsa.key, ed.key]));
const signRsa = await rate(() => dkimSign(msg, [rsa.key]));
const signEd = await rate(() => dkimSign(msg, [ed.key]));

const signedMsg = Buffer.concat([Buffer.from(dkimSign(msg, [rsa.key, ed.key]).join("")), msg]);
const memResolver: MailauthResolver = async (name, type) => {
  const t = type.toUpperCase() === "TXT" ? zone[name.toLowerCase()] : undefined;
  if (t) return t.map((s) => [s]);
  throw Object.assign(new Error(`${type} ${name}: ENOTFOUND`), { code: "ENOTFOUND" });
};
const input = { raw: signedMsg, ip: "127.0.0.1", helo: "helo.sender.test", mailFrom: "bounce@sender.test", hostname: "mx.example.test" };
const check = async (resolver: MailauthResolver) => {
  const r = await checkInbound({ ...input, resolver });
  if (r.dmarc?.status.result !== "pass") throw new Error(`benchmark message did not pass: ${r.header}`);
};
const verifyMem = await rate(() => check(memResolver));

const dns = await startTestDns(Object.fromEntries(Object.entries(zone).map(([k, v]) => [k, { TXT: v }])));
const net = createResolver({ servers: [dns.server], timeoutMs: 2000 });
const verifyDns = await rate(() => check(net.resolve), CONCURRENCY);
await dns.close();

console.log(
  JSON.stringify({
    bench: "mailauth",
    message_bytes: msg.length,
    sign_rsa2048_ed25519_msgs_per_s: signBoth,
    sign_rsa2048_msgs_per_s: signRsa,
    sign_ed25519_msgs_per_s: signEd,
    verify_full_inmemory_dns_msgs_per_s: verifyMem,
    verify_full_test_dns_server_msgs_per_s: verifyDns,
    verify_concurrency: CONCURRENCY,
    seconds_per_figure: SECONDS,
  }),
);
