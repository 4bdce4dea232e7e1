// Modules an extra plugin (a .ts/.js file in <data>/plugins) may import by bare name,
// also from the compiled binary, where no node_modules exist next to the plugin:
//   import * as v from "valibot";
//   import { definePlugin, pass, reject } from "kotakpos";
// They resolve to the copies built into kotakpos, so a plugin's schema is checked by the
// same valibot as the core's.
import * as valibot from "valibot";
import { accept, definePlugin, defer, disconnect, pass, reject } from "../types.ts";

let registered = false;

export function registerPluginModules(): void {
  if (registered) return;
  registered = true;
  Bun.plugin({
    name: "kotakpos-plugin-modules",
    setup(build) {
      build.module("valibot", () => ({ exports: { ...valibot }, loader: "object" }));
      build.module("kotakpos", () => ({ exports: { definePlugin, pass, accept, reject, defer, disconnect }, loader: "object" }));
    },
  });
}
