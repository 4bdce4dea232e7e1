// The built-in plugins, in the order their hooks run. One import and one entry per plugin.
import type { Plugin } from "../core/types.ts";
import aliases from "./aliases/index.ts";

export const builtinPlugins: Plugin[] = [aliases];
