// The migrate plugin: import from mbox / Maildir / .eml, migrate from another IMAP server,
// export (CLI commands in cli.ts). In a running server it offers the control methods the
// CLI uses, so the server's own Store does the writing.
import { definePlugin } from "../../core/types.ts";
import { createJobRunner } from "./control.ts";
import type { JobSpec } from "./jobs.ts";

export default definePlugin({
  name: "migrate",
  setup(core) {
    if (!core.registerControl) return;
    const jobs = createJobRunner(core);
    core.registerControl("migrate.start", async (spec) => jobs.start(spec as JobSpec));
    core.registerControl("migrate.status", async (id) => jobs.status(String(id)));
    core.registerControl("migrate.cancel", async (id) => jobs.cancel(String(id)));
    return () => jobs.stop();
  },
});
