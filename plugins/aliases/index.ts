// The aliases plugin: expands recipients at RCPT time (aliases, groups, catch-all,
// plus-addressing, domain aliases), forwards with SRS, reverses SRS bounces, grants
// send-as; `kotakpos alias …` (cli.ts), its admin methods (methods.ts) and admin API
// (http.ts). Its rules live in the database (`aliases`, `alias_domains`: domain
// alias and catch-all, plugins/aliases/schema.ts); admin.ts changes them.
import { definePlugin } from "../../core/types.ts";
import { AliasesConfig } from "./config.ts";
import { dbDirectory } from "./directory.ts";
import type { ExpandConfig } from "./expand.ts";
import { aliasCommand } from "./cli.ts";
import { aliasesApi } from "./http.ts";
import { aliasesAdmin } from "./methods.ts";
import { createRouter } from "./route.ts";
import { srsSecret } from "./secret.ts";

export function expandConfig(cfg: AliasesConfig): ExpandConfig {
  return {
    caseSensitive: cfg.caseSensitiveLocalParts,
    separator: cfg.separator,
    tagFolder: cfg.tagFolder,
    maxDepth: cfg.maxDepth,
    maxExpansion: cfg.maxExpansion,
  };
}

export default definePlugin({
  name: "aliases",
  config: AliasesConfig,
  async setup(core, cfg) {
    const expand = expandConfig(cfg);
    const srs = { secret: await srsSecret(core.db), maxAgeDays: cfg.srs.maxAgeDays, domain: cfg.srs.domain, rewrite: cfg.srs.enabled };
    const router = createRouter({ dir: dbDirectory(core), expand, srs, log: core.log });
    // Bounces to SRS addresses must reach us: the SRS domain has to be one of ours.
    if (cfg.srs.domain && !(await router.expander.domain(cfg.srs.domain)))
      core.log.warn("aliases.srs.domain is not a local domain: bounces to forwarded mail will not come back here", { domain: cfg.srs.domain });
    core.hooks.on("route", (txn, rcpt) => router.route(txn, rcpt));
    core.hooks.on("smtp.sendas", (user, address) => router.sendAs(user, address));
  },
  commands: [aliasCommand],
  admin: (core, cfg) => aliasesAdmin(core, expandConfig(cfg)),
  adminRoutes: (core, cfg) => aliasesApi(core, expandConfig(cfg)),
});
