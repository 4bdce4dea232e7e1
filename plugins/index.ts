// The built-in plugins, in the order their hooks run. One import and one entry per plugin.
import type { Plugin } from "../core/types.ts";
import aliases from "./aliases/index.ts";
import smtp from "./smtp/index.ts";

export const builtinPlugins: Plugin[] = [aliases, smtp];
