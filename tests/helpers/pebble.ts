// Debian's pebble (a real ACME server) for tests: a throw-away CA and `localhost`
// certificate for its API (openssl), its challenge ports pointed at the server under test,
// its DNS at a test DNS server. See /work/shared/TOOLCHAIN.md "pebble".
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pebble {
  /** ACME directory URL (https, signed by `caPem`). */
  directory: string;
  /** PEM of the CA that signed pebble's own API certificate (acme.caFile). */
  caFile: string;
  /** pebble's issuing root (PEM): certificates it issues verify against this. */
  root(): Promise<string>;
  /** Stop and start again at the same directory URL with the same API certificate (a new
   *  issuing CA and no accounts), e.g. with a blocklist. */
  restart(changes: Partial<PebbleOptions>): Promise<void>;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Port pebble's VA connects to for HTTP-01 (the kotakpos http listener). */
  httpPort: number;
  /** Port for TLS-ALPN-01 (the kotakpos https listener). */
  tlsPort: number;
  /** "127.0.0.1:PORT" of the DNS server pebble resolves names with. */
  dnsServer: string;
  /** Identifiers pebble refuses with rejectedIdentifier (a permanent error). */
  blocklist?: string[];
  /** Lifetime of issued certificates in seconds (pebble's default is ~5 years). */
  validitySeconds?: number;
  /** Port of the ACME API (to restart pebble at the same directory URL); default: free. */
  apiPort?: number;
  /** Extra environment (PEBBLE_WFE_NONCEREJECT …). */
  env?: Record<string, string>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function sh(cmd: string[], cwd: string): void {
  const r = Bun.spawnSync(cmd, { cwd, stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd[0]} failed: ${r.stderr.toString()}`);
}

export async function startPebble(opts: PebbleOptions): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-pebble-"));
  sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=pebble test api CA", "-days", "2"], dir);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "api.key", "-out", "api.csr", "-subj", "/CN=localhost"], dir);
  sh(["openssl", "x509", "-req", "-in", "api.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "api.pem", "-days", "2", "-extfile", "ext.cnf"], dir);
  const caPem = readFileSync(join(dir, "ca.pem"), "utf8");
  let current = opts;
  let proc: Bun.Subprocess | undefined;
  let api = 0;
  let mgmt = 0;
  const spawn = async (o: PebbleOptions, keepApi: boolean) => {
    for (let attempt = 0; ; attempt++) {
      api = keepApi ? api : (o.apiPort ?? (await freePort()));
      mgmt = await freePort();
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${api}`,
          managementListenAddress: `127.0.0.1:${mgmt}`,
          certificate: join(dir, "api.pem"),
          privateKey: join(dir, "api.key"),
          httpPort: o.httpPort,
          tlsPort: o.tlsPort,
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
          domainBlocklist: o.blocklist ?? [],
          ...(o.validitySeconds ? { certificateValidityPeriod: o.validitySeconds } : {}),
        },
      };
      writeFileSync(join(dir, "pebble.json"), JSON.stringify(config));
      const p = Bun.spawn(["pebble", "-config", join(dir, "pebble.json"), "-dnsserver", o.dnsServer], {
        env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", ...o.env },
        stdout: "ignore",
        stderr: "ignore",
      });
      if (await waitForPort(api, p, 10_000)) {
        proc = p;
        return;
      }
      p.kill();
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error("pebble did not start");
      }
    }
  };
  const stopProc = async () => {
    proc?.kill();
    await proc?.exited;
    proc = undefined;
  };
  await spawn(opts, false);
  return {
    get directory() {
      return `https://localhost:${api}/dir`;
    },
    caFile: join(dir, "ca.pem"),
    async root() {
      // Bun's fetch takes the CA per request.
      const r = await fetch(`https://localhost:${mgmt}/roots/0`, { tls: { ca: caPem } } as RequestInit);
      return await r.text();
    },
    async restart(changes) {
      await stopProc();
      current = { ...current, ...changes };
      await spawn(current, true);
    },
    async stop() {
      await stopProc();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, proc: Bun.Subprocess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) return false;
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        res(true);
      });
      s.on("error", () => res(false));
    });
    if (ok) return true;
    await Bun.sleep(50);
  }
  return false;
}
