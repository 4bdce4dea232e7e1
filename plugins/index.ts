// The built-in plugins, in the order their hooks run. One import and one entry per plugin.
import type { Plugin } from "../core/types.ts";
import aliases from "./aliases/index.ts";
import smtp from "./smtp/index.ts";
import pop3 from "./pop3/index.ts";
import mailauth from "./mailauth/index.ts";
import imap from "./imap/index.ts";
import acme from "./acme/index.ts";
import mtasts from "./mtasts/index.ts";

export const builtinPlugins: Plugin[] = [aliases, smtp, mailauth, imap, pop3, acme, mtasts];
