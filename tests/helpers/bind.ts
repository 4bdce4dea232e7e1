// Debian's bind9 (named) on 127.0.0.1: an authoritative server for a test zone accepting
// RFC 2136 dynamic updates signed with a TSIG key (RFC 8945), optionally DNSSEC-signed;
// and a validating resolver for that zone (its answers carry the AD bit).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./pebble.ts";

export interface TestBind {
  port: number;
  /** "127.0.0.1:PORT" */
  server: string;
  zone: string;
  key: { name: string; algorithm: "hmac-sha256"; secret: string };
  stop(): Promise<void>;
}

export interface TestResolver {
  server: string;
  stop(): Promise<void>;
}

/** Run named in `dir` on a free port: our options plus `conf.options`, then `conf.body`
 *  (keys, zones); `ready` may wait for more than the port (a signed zone). */
async function runNamed(dir: string, conf: { options: string; body: string }, ready: (port: number) => Promise<boolean> = async () => true): Promise<{ port: number; stop(): Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const options = `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  key-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  notify no;
  allow-query { any; };
  ${conf.options}
};
controls { };
${conf.body}`;
    writeFileSync(join(dir, "named.conf"), options);
    const proc = Bun.spawn(["named", "-g", "-4", "-c", join(dir, "named.conf")], { stdout: "ignore", stderr: "pipe" });
    if ((await listening(port, proc, 10_000)) && (await ready(port))) {
      return {
        port,
        async stop() {
          proc.kill();
          await proc.exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    proc.kill();
    const err = await new Response(proc.stderr).text();
    if (attempt >= 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`named did not start: ${err.slice(-500)}`);
    }
  }
}

/** `records`: zone-file lines relative to the zone ("mx IN A 127.0.0.1"). With `dnssec`
 *  the zone is signed by named itself (dnssec-policy default, inline signing). */
export async function startBind(zone: string, records: string[], opts: { dnssec?: boolean } = {}): Promise<TestBind> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-bind-"));
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const key = { name: "kotakpos-test-key", algorithm: "hmac-sha256" as const, secret };
  writeFileSync(
    join(dir, "zone.db"),
    [`$ORIGIN ${zone}.`, "$TTL 60", `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 600 60`, `@ IN NS ns.${zone}.`, "ns IN A 127.0.0.1", ...records].join("\n") + "\n",
  );
  const conf = {
    options: "recursion no; dnssec-validation no;",
    body: `key "${key.name}" { algorithm ${key.algorithm}; secret "${secret}"; };
zone "${zone}" { type primary; file "${dir}/zone.db"; allow-update { key "${key.name}"; };${opts.dnssec ? " dnssec-policy default; inline-signing yes;" : ""} };\n`,
  };
  const n = await runNamed(dir, conf, (port) => (opts.dnssec ? signed(port, zone) : loaded(port, zone)));
  return { port: n.port, server: `127.0.0.1:${n.port}`, zone, key, stop: n.stop };
}

/** A validating resolver (named) for the signed zone of `auth`, trusting its key directly
 *  (a secure island): answers from it carry the AD bit. */
export async function startValidatingResolver(auth: TestBind): Promise<TestResolver> {
  const ksk = dig(auth.port, auth.zone, "DNSKEY")
    .split("\n")
    .find((l) => l.startsWith("257 "));
  if (!ksk) throw new Error("the zone has no key-signing key");
  const [flags, proto, alg, ...key] = ksk.trim().split(/\s+/);
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-resolver-"));
  const conf = {
    options: "recursion yes; allow-recursion { 127.0.0.1; }; dnssec-validation yes;",
    body: `trust-anchors { "${auth.zone}." static-key ${flags} ${proto} ${alg} "${key.join("")}"; };
zone "${auth.zone}" { type forward; forward only; forwarders { 127.0.0.1 port ${auth.port}; }; };\n`,
  };
  const n = await runNamed(dir, conf);
  return { server: `127.0.0.1:${n.port}`, stop: n.stop };
}

const dig = (port: number, ...args: string[]) => Bun.spawnSync(["dig", "@127.0.0.1", "-p", String(port), ...args, "+short"]).stdout.toString();

/** named listens before it has loaded its zones (an update then gets SERVFAIL under
 *  load): wait for the zone's SOA. */
async function loaded(port: number, zone: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (/ hostmaster\./.test(dig(port, zone, "SOA"))) return true;
    await Bun.sleep(100);
  }
  return false;
}

/** named signs in the background: wait for the zone's key-signing key. */
async function signed(port: number, zone: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (/^257 3 /m.test(dig(port, zone, "DNSKEY"))) return true;
    await Bun.sleep(100);
  }
  return false;
}

async function listening(port: number, proc: Bun.Subprocess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) return false;
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), res(true)));
      s.on("error", () => res(false));
    });
    if (ok) return true;
    await Bun.sleep(50);
  }
  return false;
}
