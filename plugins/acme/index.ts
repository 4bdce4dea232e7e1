// The acme plugin: certificates from an ACME CA (RFC 8555) for the host name, the extra
// names and mta-sts./autoconfig. of each mail domain, one per name, served by SNI through
// the tls.certificate hook; HTTP-01 answers on port 80 (http.routes); renewal at 2/3 of
// the lifetime; status in `kotakpos tls status` and GET /api/admin/tls.
import { readFileSync } from "node:fs";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { definePlugin, pass } from "../../core/types.ts";
import { AcmeConfig, acmeEnabled, directoryUrl } from "./config.ts";
import { adminApp, challengeApp, ChallengeTokens } from "./http.ts";
import { createManager, type Manager } from "./manager.ts";

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
        log: core.log,
        tls: core.tls,
        hostname,
        directory,
        caPem: cfg.caFile ? readFileSync(cfg.caFile, "utf8") : undefined,
        email: cfg.email || undefined,
        challenge: cfg.challenge,
        answer: {
          async create(type, _name, token, keyAuthorization) {
            if (type === "http-01") tokens.add(token, keyAuthorization);
          },
          async remove(type, _name, token) {
            if (type === "http-01") tokens.remove(token);
          },
        },
        async names() {
          const domains = (await core.store.listDomains()).map((d) => d.name.toLowerCase());
          return [...new Set([hostname, ...cfg.names.map((n) => n.toLowerCase()), ...domains.flatMap((d) => [`mta-sts.${d}`, `autoconfig.${d}`])])];
        },
        selfCheck: cfg.selfCheck ? { resolver: resolverFromConfig(core.config), port: cfg.httpPort, probe: tokens } : undefined,
      });
      const m = manager;
      core.hooks.on("tls.certificate", (servername) => m.certificateFor(servername) ?? pass);
      core.hooks.on("tls.certificates", () => m.certificates());
      m.start();
    }
    const admin = adminApp({ directory, manager });
    core.hooks.on("http.routes", (app) => {
      app.route("/", challengeApp(tokens));
      app.route("/api/admin", admin);
    });
    return () => manager?.stop();
  },
});
