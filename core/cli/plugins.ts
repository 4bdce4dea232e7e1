// kotakpos plugins — the plugins and the order in which hook handlers run (from the
// running server when there is one, else a dry run of the plugins' setup).
import { positionals } from "./args.ts";
import type { Command } from "./command.ts";
import { withAdmin } from "./context.ts";

export const pluginsCommand: Command = {
  name: "plugins",
  summary: "list the plugins and the order in which hook handlers run",
  usage: ["plugins"],
  async run(ctx, p) {
    positionals(p, []);
    const r = await withAdmin(ctx, (api) => api.plugins());
    const out = ctx.io.out;
    out(`plugins: ${r.plugins.join(", ") || "(none)"}${r.disabled.length ? `  (disabled: ${r.disabled.join(", ")})` : ""}\n`);
    if (r.listeners.length) out(`listeners: ${r.listeners.join(", ")}${r.live ? "" : " (standard ports, before the offset)"}\n`);
    out(`hooks (handlers in run order${r.live ? ", from the running server" : ""}):\n`);
    const byHook = new Map<string, string[]>();
    for (const { hook, plugin } of r.hooks) byHook.set(hook, [...(byHook.get(hook) ?? []), plugin]);
    for (const [hook, names] of [...byHook].sort(([a], [b]) => a.localeCompare(b))) out(`  ${hook.padEnd(22)} ${names.join(" -> ")}\n`);
  },
};
