// The acme plugin: certificates from an ACME CA (RFC 8555) for the host name, the extra
// names and mta-sts./autoconfig. of each mail domain, one per name, served by SNI through
// the tls.certificate hook; HTTP-01 answers on port 80 (http.routes); renewal at 2/3 of
// the lifetime; status in `kotakpos tls status` and GET /api/admin/tls.
import { readFileSync } from "node:fs";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { ConfigError } from "../../core/config.ts";
import { tlsCommand } from "./cli.ts";
import { definePlugin, pass, type Core } from "../../core/types.ts";
import { AcmeConfig, acmeEnabled, directoryUrl } from "./config.ts";
import { adminApp, challengeApp, ChallengeTokens } from "./http.ts";
import { createManager, type Manager } from "./manager.ts";
import { updateTxt } from "./rfc2136.ts";

const inZone = (name: string, zone: string) => name.toLowerCase() === zone.toLowerCase() || name.toLowerCase().endsWith(`.${zone.toLowerCase()}`);

/** DNS-01 (RFC 8555 §8.4): the TXT record at _acme-challenge.<name>, through the hook. */
async function dns01(core: Core, action: "add" | "delete", name: string, value: string): Promise<void> {
  const r = await core.hooks.first("acme.dns01", { action, name: `_acme-challenge.${name}`, value });
  if (r.kind === "done") return;
  if (action === "delete") return; // a leftover TXT record does no harm
  if (r.kind === "failed") throw new Error(r.reason);
  if (r.kind === "pass") throw new Error(`no DNS provider for ${name}: set [acme.rfc2136] (or load a plugin handling acme.dns01)`);
  // A handler that threw or timed out (the hook pipeline logged it).
  throw new Error("the acme.dns01 handler failed (see the log)");
}

export default definePlugin({
  name: "acme",
  config: AcmeConfig,
  async setup(core, cfg) {
    const hostname = core.config.hostname.toLowerCase();
    const directory = directoryUrl(cfg);
    const tokens = new ChallengeTokens();
    let manager: Manager | undefined;
    if (acmeEnabled(cfg, hostname)) {
      manager = await createManager({
        db: core.db,
        leases: core.leases,
        log: core.log,
        tls: core.tls,
        hostname,
        directory,
        caPem: cfg.caFile ? readFileSync(cfg.caFile, "utf8") : undefined,
        email: cfg.email || undefined,
        challenge: cfg.challenge,
        answer: {
          async create(type, name, token, keyAuthorization) {
            if (type === "http-01") tokens.add(token, keyAuthorization);
            if (type === "dns-01") await dns01(core, "add", name, keyAuthorization);
          },
          async remove(type, name, token, keyAuthorization) {
            if (type === "http-01") tokens.remove(token);
            if (type === "dns-01") await dns01(core, "delete", name, keyAuthorization);
          },
        },
        async names() {
          const domains = (await core.store.listDomains()).map((d) => d.name.toLowerCase());
          return [...new Set([hostname, ...cfg.names.map((n) => n.toLowerCase()), ...domains.flatMap((d) => [`mta-sts.${d}`, `autoconfig.${d}`])])];
        },
        // DNS-01 needs no inbound port: nothing to self-check.
        selfCheck: cfg.selfCheck && cfg.challenge === "http-01" ? { resolver: resolverFromConfig(core.config), port: cfg.httpPort, probe: tokens } : undefined,
      });
      const rfc = cfg.rfc2136;
      if (rfc.server && !(rfc.zone && rfc.keyName && rfc.secret)) throw new ConfigError("config error: acme.rfc2136: server, zone, keyName and secret are needed together");
      if (rfc.server) {
        const target = { server: rfc.server, zone: rfc.zone, keyName: rfc.keyName, algorithm: rfc.algorithm, secret: rfc.secret };
        core.hooks.on("acme.dns01", async (change) => {
          if (!inZone(change.name, rfc.zone)) return pass;
          try {
            await updateTxt(target, change.action, change.name, change.value);
            return { kind: "done" };
          } catch (err) {
            return { kind: "failed", reason: `RFC 2136 update at ${rfc.server}: ${(err as Error).message}` };
          }
        });
      }
      const m = manager;
      core.hooks.on("tls.certificate", (servername) => {
        const c = m.certificateFor(servername);
        return c ? { kind: "certificate", ...c } : pass;
      });
      core.hooks.on("tls.certificates", () => ({ kind: "certificates", certificates: m.certificates() }));
      m.start();
    }
    const admin = adminApp({ directory, manager });
    core.hooks.on("http.routes", (app) => {
      app.route("/", challengeApp(tokens));
      app.route("/api/admin", admin);
    });
    return () => manager?.stop();
  },
  commands: [tlsCommand],
});
