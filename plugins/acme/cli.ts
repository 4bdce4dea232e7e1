// kotakpos tls status [--json] | tls renew [NAME...]
// Reads the database directly (the running server keeps the status there); `renew` leaves
// a request that the running server picks up within 15 seconds.
import { join } from "node:path";
import type { Command } from "../../core/cli/command.ts";
import { loadCliConfig, type Ctx } from "../../core/cli/context.ts";
import { EXIT_OK, UsageError } from "../../core/cli/errors.ts";
import { domainName } from "../../core/cli/validate.ts";
import { openDb, type Db } from "../../core/db/open.ts";
import { acmeConfigOf, acmeEnabled, directoryUrl } from "./config.ts";
import { formatStatus, statusView } from "./status.ts";
import { loadStatuses, requestRenewal } from "./store.ts";

async function withDb<T>(ctx: Ctx, fn: (db: Db, info: { enabled: boolean; directory: string; certFile: string }) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(ctx);
  const acme = acmeConfigOf(config as Record<string, unknown>);
  const db = await openDb({ url: config.database.url || `file:${join(ctx.globals.dataDir, "kotakpos.db")}`, authToken: config.database.authToken || undefined });
  try {
    return await fn(db, { enabled: acmeEnabled(acme, config.hostname) && !config.plugins.disabled.includes("acme"), directory: directoryUrl(acme), certFile: config.tls.certFile });
  } finally {
    await db.close();
  }
}

const status: Command = {
  name: "status",
  summary: "each name: issuer, expiry, next renewal, last error",
  usage: ["tls status [--json]"],
  options: { json: { type: "boolean" } },
  async run(ctx, p) {
    if (p.positionals.length) throw new UsageError("usage: kotakpos tls status [--json]");
    await withDb(ctx, async (db, info) => {
      const views = (await loadStatuses(db)).map(statusView);
      if (p.values.json) return ctx.io.out(JSON.stringify({ acme: info.enabled, directory: info.enabled ? info.directory : null, names: views }, null, 2) + "\n");
      if (!info.enabled) ctx.io.out(`ACME is off: serving ${info.certFile ? info.certFile : "a self-signed certificate"} (set [acme] enabled = true and a public hostname)\n`);
      else ctx.io.out(`ACME directory ${info.directory}\n`);
      ctx.io.out(views.length ? formatStatus(views) : "no certificate ordered yet (is the server running?)\n");
    });
    return EXIT_OK;
  },
};

const renew: Command = {
  name: "renew",
  summary: "order new certificates now (all names, or the ones given)",
  usage: ["tls renew [NAME...]"],
  async run(ctx, p) {
    const names = p.positionals.map((n) => domainName(n));
    await withDb(ctx, async (db, info) => {
      if (!info.enabled) throw new UsageError("ACME is off: set [acme] enabled = true (and a public hostname)");
      await requestRenewal(db, names);
    });
    ctx.io.out(`renewal requested for ${names.length ? names.join(", ") : "every name"}: the running server orders within 15 s (kotakpos tls status shows the result)\n`);
    return EXIT_OK;
  },
};

export const tlsCommand: Command = {
  name: "tls",
  summary: "certificates: ACME status and renewal",
  usage: ["tls status [--json]", "tls renew [NAME...]"],
  sub: [status, renew],
};
