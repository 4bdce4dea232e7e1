// The migrate plugin: import from mbox / Maildir / .eml, migrate from another IMAP server,
// export (CLI commands in cli.ts). Its admin methods run a job and report its progress, so
// with a server running the CLI has the server's own Store do the writing.
import { definePlugin } from "../../core/types.ts";
import { exportCommand, importCommand, migrateCommand } from "./cli.ts";
import { createJobRunner } from "./control.ts";
import type { JobSpec } from "./jobs.ts";

export default definePlugin({
  name: "migrate",
  commands: [importCommand, migrateCommand, exportCommand],
  admin(core) {
    const jobs = createJobRunner(core);
    core.onShutdown(() => jobs.stop());
    return {
      start: async (spec: JobSpec) => jobs.start(spec),
      status: async (id: string) => jobs.status(String(id)),
      cancel: async (id: string) => jobs.cancel(String(id)),
    };
  },
  setup() {},
});
