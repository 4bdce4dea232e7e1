// Debian's bind9 (named) as an authoritative server for a test zone on 127.0.0.1, accepting
// RFC 2136 dynamic updates signed with a TSIG key (RFC 8945).
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

/** `records`: zone-file lines relative to the zone ("mx IN A 127.0.0.1"). */
export async function startBind(zone: string, records: string[]): Promise<TestBind> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-bind-"));
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const key = { name: "kotakpos-test-key", algorithm: "hmac-sha256" as const, secret };
  writeFileSync(
    join(dir, "zone.db"),
    [`$ORIGIN ${zone}.`, "$TTL 60", `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 60 60 600 60`, `@ IN NS ns.${zone}.`, "ns IN A 127.0.0.1", ...records].join("\n") + "\n",
  );
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(
      join(dir, "named.conf"),
      `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { any; };
  notify no;
};
controls { };
key "${key.name}" { algorithm ${key.algorithm}; secret "${secret}"; };
zone "${zone}" { type primary; file "${dir}/zone.db"; allow-update { key "${key.name}"; }; };
`,
    );
    const proc = Bun.spawn(["named", "-g", "-4", "-c", join(dir, "named.conf")], { stdout: "ignore", stderr: "pipe" });
    if (await listening(port, proc, 10_000)) {
      return {
        port,
        server: `127.0.0.1:${port}`,
        zone,
        key,
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
