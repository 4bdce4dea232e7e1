// The home side: pairing (`edge join`), the pull loop (ODMR every few seconds, again at
// once after mail came), the recipient list it keeps the edge's copy of, and outbound
// mail through the edge (its credential, its pinned certificate).
import { isIP } from "node:net";
import { eq, sql } from "drizzle-orm";
import { settings } from "../../core/db/schema.ts";
import { resolverFromConfig } from "../../core/dns/index.ts";
import type { Hono } from "hono";
import type { Core, NextHop } from "../../core/types.ts";
import { decodeCode } from "./code.ts";
import { LinkError, login, openLink, serveReversed, syncRecipients } from "./odmr-client.ts";
import { edgeLinks } from "./schema.ts";

export type LinkRow = typeof edgeLinks.$inferSelect;

/** "host", "host:port", "[v6]:port" → host and port (default 366, RFC 2645 §3). */
export function parseEdgeAddress(s: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(s.trim());
  if (!m) return null;
  const port = Number(m[2] ?? 366);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, "").toLowerCase(), port };
}

/** `edge join`: present the one-time secret, receive the credential, keep the link. */
export async function join(core: Core, address: string, code: string): Promise<{ domain: string; host: string; port: number }> {
  const at = parseEdgeAddress(address);
  if (!at) throw new Error(`"${address}" is not HOST or HOST:PORT`);
  const c = decodeCode(code);
  if (!c) throw new Error("that is not a pairing code (it starts with kp1-; copy it whole from `kotakpos edge add` on the edge)");
  const l = await openLink({ ...at, fingerprint: c.fingerprint }, core.config.hostname, resolverFromConfig(core.config));
  let credential: string;
  try {
    await login(l, c.domain, c.secret).catch((e: Error) => {
      throw new LinkError(`${e.message} (a code works once; make a new one with \`kotakpos edge add ${c.domain}\` on the edge)`);
    });
    const r = await l.cmd("XPAIR");
    if (r.code !== 250) throw new LinkError(`the edge did not pair: ${r.code} ${r.text}`);
    credential = r.text.replace(/^2\.0\.0 /, "");
    await l.cmd("QUIT").catch(() => {});
  } finally {
    l.close();
  }
  if (!(await core.store.isLocalDomain(c.domain))) await core.store.addDomain(c.domain);
  const row = { domain: c.domain, host: at.host, port: at.port, secret: credential, fingerprint: c.fingerprint, pairedAt: Date.now(), lastOk: null, lastError: null, pulled: 0 };
  await core.db.write(async (tx) => {
    await tx.orm.insert(edgeLinks).values(row).onConflictDoUpdate({ target: edgeLinks.domain, set: row });
    // The domain's MX is now the edge: `kotakpos dns` and the health checks say so
    // (core settings key "mx:<domain>"; an address cannot be an MX, a name can).
    if (!isIP(at.host))
      await tx.orm
        .insert(settings)
        .values({ key: `mx:${c.domain}`, value: at.host })
        .onConflictDoUpdate({ target: settings.key, set: { value: at.host } });
  });
  return { domain: c.domain, host: at.host, port: at.port };
}

/** The home's valid recipients of a domain: its accounts and aliases (through the aliases
 *  plugin's admin API when the web app runs; "@domain" is a catch-all). */
export async function recipientsOf(core: Core, domain: string, adminApp: { app: Hono; token: string } | null): Promise<string[]> {
  const out = new Set((await core.store.listAccounts(domain)).map((a) => a.address.toLowerCase()));
  if (adminApp) {
    const res = await adminApp.app.request(`/api/admin/aliases?domain=${encodeURIComponent(domain)}`, { headers: { authorization: `Bearer ${adminApp.token}` } });
    if (res.ok) for (const a of ((await res.json()) as { aliases?: { address: string }[] }).aliases ?? []) out.add(a.address.toLowerCase());
  }
  return [...out].filter((a) => a.endsWith("@" + domain)).sort();
}

/** One ODMR round: log in, send the recipients when they changed, ATRN, take the mail. */
export async function pullOnce(core: Core, link: LinkRow, recipients: string[] | null): Promise<number> {
  const l = await openLink(link, core.config.hostname, resolverFromConfig(core.config));
  try {
    await login(l, link.domain, link.secret);
    if (recipients) await syncRecipients(l, recipients);
    const r = await l.cmd(`ATRN ${link.domain}`);
    if (r.code === 453) {
      await l.cmd("QUIT").catch(() => {});
      return 0;
    }
    if (r.code !== 250) throw new LinkError(`ATRN refused: ${r.code} ${r.text}`);
    return await serveReversed(core, l, link.host);
  } finally {
    l.close();
  }
}

export async function links(core: Core): Promise<LinkRow[]> {
  return core.db.orm.select().from(edgeLinks);
}

export async function recordPull(core: Core, domain: string, ok: boolean, pulled: number, error?: string): Promise<void> {
  await core.db.write((tx) =>
    tx.orm
      .update(edgeLinks)
      .set(ok ? { lastOk: Date.now(), lastError: null, pulled: sql`${edgeLinks.pulled} + ${pulled}` } : { lastError: error ?? "failed" })
      .where(eq(edgeLinks.domain, domain)),
  );
}

/** Outbound mail of a linked domain (or a bounce, null sender) goes to the edge: TLS with
 *  the pinned certificate (a DANE-EE style match, RFC 7672 §3.1.1), AUTH with the credential. */
export function hopVia(link: LinkRow): NextHop {
  return {
    host: link.host,
    port: link.port,
    preference: 0,
    requireTls: true,
    tlsa: [{ usage: 3, selector: 0, mtype: 1, data: link.fingerprint }],
    auth: { username: link.domain, password: link.secret },
  };
}
