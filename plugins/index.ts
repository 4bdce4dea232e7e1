// The built-in plugins, in the order their hooks run. One import and one entry per plugin.
// edge comes first: its route and nextHop answer for paired domains before anyone else.
// ratelimit stays after any plugin that accepts other credentials (app passwords): its
// auth handler counts a login the account password does not match as a failure.
import type { Plugin } from "../core/types.ts";
import aliases from "./aliases/index.ts";
import edge from "./edge/index.ts";
import smtp from "./smtp/index.ts";
import pop3 from "./pop3/index.ts";
import mailauth from "./mailauth/index.ts";
import imap from "./imap/index.ts";
import webConsole from "./console/index.ts";
import acme from "./acme/index.ts";
import mtasts from "./mtasts/index.ts";
import junk from "./junk/index.ts";
import dnsbl from "./dnsbl/index.ts";
import ratelimit from "./ratelimit/index.ts";
import rspamd from "./rspamd/index.ts";
import greylist from "./greylist/index.ts";
import migrate from "./migrate/index.ts";
import jmap from "./jmap/index.ts";
import webmail from "./webmail/index.ts";

export const builtinPlugins: Plugin[] = [edge, aliases, smtp, mailauth, imap, pop3, acme, mtasts, migrate, webConsole, jmap, webmail, greylist, dnsbl, rspamd, junk, ratelimit];
