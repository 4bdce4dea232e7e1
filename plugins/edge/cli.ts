// kotakpos edge add|join|status|remove — on the edge's admin methods, through the running
// server (so its listener and sessions follow) or the database directly.
import { pluginAdmin } from "../../core/control/api.ts";
import { positionals } from "../../core/cli/args.ts";
import type { Command } from "../../core/cli/command.ts";
import { withAdmin, type Ctx } from "../../core/cli/context.ts";
import { CommandError } from "../../core/cli/errors.ts";
import { domainName } from "../../core/cli/validate.ts";
import type { EdgeAdmin } from "./index.ts";

const withEdge = <T>(ctx: Ctx, fn: (a: EdgeAdmin) => Promise<T>): Promise<T> =>
  withAdmin(ctx, (api) => fn(pluginAdmin<EdgeAdmin>(api, "edge"))).catch((e: Error) => {
    if (e instanceof CommandError) throw e;
    throw new CommandError(e.message);
  });

const when = (ms: number | null) => (ms ? new Date(ms).toISOString().replace(/\.\d+Z$/, "Z") : "never");

const add: Command = {
  name: "add",
  summary: "on the VPS: pair a home domain; prints its one-time pairing code",
  usage: ["edge add DOMAIN [--json]"],
  details: ["This server becomes the MX of DOMAIN and keeps its mail until the home fetches it.", "At home: kotakpos edge join THIS-HOST[:366] CODE"],
  options: { json: { type: "boolean" } },
  async run(ctx, p) {
    const [raw] = positionals(p, ["DOMAIN"]);
    const domain = domainName(raw!);
    const { code } = await withEdge(ctx, (a) => a.add(domain));
    if (p.values.json) return void ctx.io.out(JSON.stringify({ code }) + "\n");
    ctx.io.out(`Pairing code for ${domain} (works once; it carries this edge's certificate fingerprint):\n\n  ${code}\n\nAt home: kotakpos edge join <this host>[:PORT] ${code}\n`);
  },
};

const join: Command = {
  name: "join",
  summary: "at home: pair with an edge (fetch mail from it, send through it)",
  usage: ["edge join HOST[:PORT] CODE"],
  details: ["PORT defaults to 366 (ODMR, RFC 2645). The home opens every connection itself: no port needs to be open at home."],
  async run(ctx, p) {
    const [address, code] = positionals(p, ["HOST[:PORT]", "CODE"]);
    const r = await withEdge(ctx, (a) => a.join(address!, code!));
    ctx.io.out(`paired: ${r.domain} now fetches its mail from ${r.host}:${r.port} and sends through it\n`);
  },
};

const status: Command = {
  name: "status",
  summary: "the links: paired homes (on the edge) or edges (at home), queued mail, last error",
  usage: ["edge status [--json]"],
  options: { json: { type: "boolean" } },
  async run(ctx, p) {
    positionals(p, []);
    const s = await withEdge(ctx, (a) => a.status());
    if (p.values.json) return void ctx.io.out(JSON.stringify(s) + "\n");
    if (!s.homes.length && !s.edges.length) return void ctx.io.out("no edge link (kotakpos edge add DOMAIN on the VPS, then edge join at home)\n");
    for (const h of s.homes)
      ctx.io.out(
        h.paired
          ? `home ${h.domain}: ${h.connected ? "connected" : "not connected"}, last seen ${when(h.lastSeen)}, ${h.queued} queued, ${h.recipients} recipients known${h.lastError ? `, last error: ${h.lastError}` : ""}\n`
          : `home ${h.domain}: waiting for \`kotakpos edge join\` at home\n`,
      );
    for (const e of s.edges)
      ctx.io.out(`edge of ${e.domain}: ${e.edge}, last fetch ${when(e.lastOk)}, ${e.pulled} messages fetched, ${e.queued} outbound queued${e.lastError ? `, last error: ${e.lastError}` : ""}\n`);
  },
};

const remove: Command = {
  name: "remove",
  summary: "unpair a domain and revoke its credential",
  usage: ["edge remove DOMAIN"],
  async run(ctx, p) {
    const [raw] = positionals(p, ["DOMAIN"]);
    const domain = domainName(raw!);
    const { removed } = await withEdge(ctx, (a) => a.remove(domain));
    if (!removed.length) throw new CommandError(`no edge link for ${domain}`);
    ctx.io.out(`removed ${removed.join(" and ")}\n`);
  },
};

export const edgeCommand: Command = {
  name: "edge",
  summary: "home lab: receive behind CGNAT through a paired edge relay on a VPS",
  usage: ["edge add DOMAIN [--json]", "edge join HOST[:PORT] CODE", "edge status [--json]", "edge remove DOMAIN"],
  sub: [add, join, status, remove],
};
