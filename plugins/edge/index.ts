// The edge plugin (issue 20): a home server behind CGNAT receives through a paired edge on
// a small VPS, with no open port at home. On the edge: the ODMR listener (RFC 2645,
// `listen.ports.odmr`), the paired domains as MX (unknown recipients refused at RCPT from
// the list the home sends), their mail held in the spool until the home pulls it. At home:
// the pull loop and outbound mail through the edge. `kotakpos edge add|join|status|remove`.
import { eq } from "drizzle-orm";
import * as v from "valibot";
import type { Hono } from "hono";
import { adminToken } from "../../core/http.ts";
import type { Db } from "../../core/db/open.ts";
import { settings } from "../../core/db/schema.ts";
import { definePlugin, pass, type Core } from "../../core/types.ts";
import { edgeCommand } from "./cli.ts";
import { certFingerprint, encodeCode, hashSecret, newSecret } from "./code.ts";
import { hopVia, join, links, pullOnce, recipientsOf, recordPull } from "./home.ts";
import { linkIdentity } from "./identity.ts";
import { Links } from "./link.ts";
import { AuthLimiter, odmrSession } from "./odmr-server.ts";
import { getPeer, knownRecipient, touchPeerError, waitingFor } from "./peers.ts";
import { edgeLinks, edgePeers } from "./schema.ts";

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

export const EdgeConfig = v.object({
  pollSeconds: v.optional(v.pipe(v.number(), v.minValue(0.2), v.maxValue(3600), v.description("At home: seconds between ODMR polls of the edge when no mail came (again at once after mail).")), 5),
});
type Cfg = v.InferOutput<typeof EdgeConfig>;

/** What a running server holds (admin methods reach it through the same database). */
interface Runtime {
  ensureListener(): Promise<void>;
  links: Links;
}
const running = new WeakMap<Db, Runtime>();
/** A home that logged in this recently counts as connected (it polls every few seconds). */
const RECENT_LOGIN_MS = 60_000;

export interface EdgeStatus {
  /** This server as an edge: its paired home domains. */
  homes: { domain: string; paired: boolean; recipients: number; lastSeen: number | null; queued: number; connected: boolean; lastError: string | null }[];
  /** This server as a home: the edges it pulls from. */
  edges: { domain: string; edge: string; lastOk: number | null; pulled: number; queued: number; lastError: string | null }[];
}

export interface EdgeAdmin {
  add(domain: string): Promise<{ code: string }>;
  join(address: string, code: string): Promise<{ domain: string; host: string; port: number }>;
  status(): Promise<EdgeStatus>;
  remove(domain: string): Promise<{ removed: string[] }>;
  [k: string]: (...args: never[]) => Promise<unknown>;
}

export function edgeAdmin(core: Core): EdgeAdmin {
  return {
    async add(domain) {
      const d = domain.toLowerCase();
      if (await core.store.isLocalDomain(d)) throw new Error(`${d} is a domain of this server; the edge is the MX of a home's domain (run \`kotakpos edge add\` on the VPS)`);
      const id = await linkIdentity(core.db, core.config.hostname, true);
      const secret = newSecret();
      const row = { domain: d, codeHash: hashSecret(secret), secretHash: null, createdAt: Date.now(), pairedAt: null, recipients: "[]", syncedAt: null, lastSeen: null, lastError: null };
      await core.db.write((tx) => tx.orm.insert(edgePeers).values(row).onConflictDoUpdate({ target: edgePeers.domain, set: row }));
      await running.get(core.db)?.ensureListener();
      return { code: encodeCode({ domain: d, secret, fingerprint: certFingerprint(id!.cert) }) };
    },
    join: (address, code) => join(core, address, code),
    async status() {
      const rt = running.get(core.db);
      const homes = await Promise.all(
        (await core.db.orm.select().from(edgePeers)).map(async (p) => ({
          domain: p.domain,
          paired: p.secretHash !== null,
          recipients: (JSON.parse(p.recipients) as string[]).length,
          lastSeen: p.lastSeen,
          queued: (await waitingFor(core, p.domain)).count,
          // Logged in lately (each poll logs in), or offering its link right now.
          connected: (p.lastSeen !== null && Date.now() - p.lastSeen < RECENT_LOGIN_MS) || (rt?.links.reachable(p.domain) ?? false),
          lastError: p.lastError,
        })),
      );
      const spool = await core.spool.list();
      const outbound = (d: string) => spool.filter((q) => (q.status === "queued" || q.status === "deferred" || q.status === "inflight") && q.mailFrom.toLowerCase().endsWith("@" + d)).length;
      const edges = (await links(core)).map((l) => ({ domain: l.domain, edge: `${l.host}:${l.port}`, lastOk: l.lastOk, pulled: l.pulled, queued: outbound(l.domain), lastError: l.lastError }));
      return { homes, edges };
    },
    async remove(domain) {
      const d = domain.toLowerCase();
      const removed: string[] = [];
      await core.db.write(async (tx) => {
        if ((await tx.orm.delete(edgePeers).where(eq(edgePeers.domain, d)).returning()).length) removed.push(`home ${d} (its credential revoked)`);
        if ((await tx.orm.delete(edgeLinks).where(eq(edgeLinks.domain, d)).returning()).length) {
          removed.push(`link of ${d} to its edge`);
          await tx.orm.delete(settings).where(eq(settings.key, `mx:${d}`));
        }
      });
      return { removed };
    },
  };
}

export default definePlugin({
  name: "edge",
  config: EdgeConfig,
  commands: [edgeCommand],
  admin: (core) => edgeAdmin(core),
  async setup(core: Core, cfg: Cfg) {
    const linksOf = new Links();
    const limiter = new AuthLimiter();
    let listening: Promise<void> | null = null;
    const rt: Runtime = {
      links: linksOf,
      ensureListener() {
        listening ??= core
          .listen({
            name: "odmr",
            port: 366,
            mode: "plain",
            certificate: async () => (await linkIdentity(core.db, core.config.hostname, true))!,
            onConnection: (conn) => odmrSession(core, linksOf, limiter, conn),
            onRefuse: (conn, reply) => conn.write(`${reply.code} ${reply.enhanced ?? ""} ${reply.text}\r\n`),
          })
          .then(() => {});
        return listening;
      },
    };
    running.set(core.db, rt);

    // ---- the edge: MX of its paired domains ----
    if ((await core.db.orm.select({ d: edgePeers.domain }).from(edgePeers).limit(1)).length) await rt.ensureListener();
    core.hooks.on("route", async (_txn, rcpt) => {
      const p = await getPeer(core.db, rcpt.domain);
      if (!p?.secretHash) return pass;
      // Never synced: not known yet which users exist; the sender tries again later.
      if (p.syncedAt === null) return { kind: "defer", reply: { code: 450, enhanced: "4.3.0", text: `The recipients of ${p.domain} are not known here yet, try again later` } };
      if (!knownRecipient(p, rcpt.address)) return { kind: "reject", reply: { code: 550, enhanced: "5.1.1", text: `${rcpt.address}: no such user here` } };
      return { kind: "route", local: [], remote: [{ address: rcpt.address }], relay: true };
    });
    const warned = new Map<string, number>();
    // A delivery down a home's link that failed (not merely "waiting"): its last error.
    core.hooks.on("deferred", async (info) => {
      const domain = info.recipient.slice(info.recipient.lastIndexOf("@") + 1).toLowerCase();
      if (info.error.startsWith("waiting for the home")) return pass;
      if ((await getPeer(core.db, domain))?.secretHash) await touchPeerError(core.db, domain, info.error);
      return pass;
    });
    core.hooks.on("delivered", async (info) => {
      const domain = info.recipient.slice(info.recipient.lastIndexOf("@") + 1).toLowerCase();
      if ((await getPeer(core.db, domain))?.lastError) await touchPeerError(core.db, domain, null);
    });
    core.hooks.on("nextHop", async (_msg, domain) => {
      const p = await getPeer(core.db, domain);
      if (!p?.secretHash) return pass;
      // The mail waits in the spool until the home's next ATRN offers its link.
      if (!linksOf.reachable(p.domain)) {
        // Tell the admin (once an hour per domain) when the home has been away a while.
        const away = Date.now() - (p.lastSeen ?? p.pairedAt ?? 0);
        if (away > 10 * 60_000 && Date.now() - (warned.get(p.domain) ?? 0) > 3_600_000) {
          warned.set(p.domain, Date.now());
          core.log.warn("edge: mail waits for a home that has not fetched it", { domain: p.domain, lastSeen: p.lastSeen ? new Date(p.lastSeen).toISOString() : "never" });
        }
        return { kind: "defer", reply: { code: 451, enhanced: "4.4.1", text: `waiting for the home of ${p.domain} to fetch its mail (ODMR)` } };
      }
      return { kind: "hops", hops: [{ host: p.domain, preference: 0, connect: () => linksOf.take(p.domain, 20_000) }] };
    });

    // ---- the home: pull from the edge, send through it ----
    let adminApp: { app: Hono; token: string } | null = null;
    core.hooks.on("http.routes", (app) => {
      adminApp = { app, token: adminToken(core.dataDir) };
    });
    core.hooks.on("nextHop", async (msg) => {
      const all = await links(core);
      const from = msg.mailFrom.slice(msg.mailFrom.lastIndexOf("@") + 1).toLowerCase();
      const link = msg.mailFrom === "" ? all[0] : all.find((l) => l.domain === from);
      return link ? { kind: "hops", hops: [hopVia(link)] } : pass;
    });
    const synced = new Map<string, string>();
    const stop = new AbortController();
    const loop = async () => {
      while (!stop.signal.aborted) {
        let more = false;
        for (const link of await links(core).catch(() => [])) {
          try {
            const list = await recipientsOf(core, link.domain, adminApp);
            const key = list.join("\n");
            const n = await pullOnce(core, link, synced.get(link.domain) === key ? null : list);
            synced.set(link.domain, key);
            await recordPull(core, link.domain, true, n);
            if (n > 0) core.log.info("edge: pulled mail", { domain: link.domain, messages: n });
            more ||= n > 0;
          } catch (e) {
            synced.delete(link.domain);
            core.log.warn("edge: pull failed", { domain: link.domain, edge: `${link.host}:${link.port}`, err: (e as Error).message });
            await recordPull(core, link.domain, false, 0, (e as Error).message).catch(() => {});
          }
        }
        if (!more) await pause(cfg.pollSeconds * 1000, stop.signal);
      }
    };
    const done = loop();
    return async () => {
      stop.abort();
      linksOf.close();
      running.delete(core.db);
      await Promise.race([done, Bun.sleep(2000)]);
    };
  },
});
