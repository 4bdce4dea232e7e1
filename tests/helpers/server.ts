// Start an in-process kotakpos for a test: temp data dir, every listener on a free port of
// 127.0.0.1, plaintext auth allowed on loopback, a domain and the users asked for.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type DeepPartial, type RunningServer } from "../../core/server.ts";
import { createLogger } from "../../core/log.ts";
import type { Config } from "../../core/config.ts";
import type { Logger, Plugin } from "../../core/types.ts";
import { builtinPlugins } from "../../plugins/index.ts";

export interface TestServerOptions {
  domains?: string[];
  users?: { address: string; password: string }[];
  config?: DeepPartial<Config> & Record<string, unknown>;
  plugins?: Plugin[];
  dataDir?: string;
  /** Keep the data dir on cleanup (restart tests). */
  keepData?: boolean;
  /** A logger of the test's own (e.g. to read the log lines); default: stderr at the config's level. */
  log?: Logger;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  cleanup(): Promise<void>;
}

const ALL_PORTS_FREE = { smtp: 0, submission: 0, submissions: 0, imap: 0, imaps: 0, pop3: 0, pop3s: 0, http: 0, https: 0 };

function merge<T>(a: T, b: unknown): T {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null || Array.isArray(b)) return (b ?? a) as T;
  const out = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
  return out as T;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "kotakpos-test-"));
  const config = merge(
    {
      hostname: "mx.example.test",
      listen: { address: "127.0.0.1", portOffset: 0, ports: ALL_PORTS_FREE },
      auth: { allowPlaintextOnLoopback: true },
      log: { level: (process.env.KOTAKPOS_TEST_LOG as "debug") ?? "error" },
    },
    opts.config ?? {},
  );
  const server = await startServer({
    dataDir,
    config,
    plugins: opts.plugins ?? builtinPlugins,
    loadPluginDir: true,
    log: opts.log ?? createLogger(config.log.level),
  });
  const store = server.core.store;
  for (const d of opts.domains ?? ["example.test"]) if (!(await store.isLocalDomain(d))) await store.addDomain(d);
  for (const u of opts.users ?? []) if (!(await store.getAccount(u.address))) await store.createAccount(u.address, u.password);
  let stopped = false;
  return {
    ...server,
    dataDir,
    async cleanup() {
      if (!stopped) await server.stop();
      stopped = true;
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
    async stop() {
      if (!stopped) await server.stop();
      stopped = true;
    },
  };
}
