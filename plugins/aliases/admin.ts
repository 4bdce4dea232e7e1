// Alias administration as plain functions over the database and the Store, shared by the CLI
// (`kotakpos alias …`) and the admin HTTP API. Every change is checked before it is
// written: addresses well-formed, the domain ours, targets existing, senders real users,
// and no loop or too-deep nesting — a loop is the admin's error here, never a mail storm.
import { eq, isNotNull } from "drizzle-orm";
import type { Domain } from "../../core/store/types.ts";
import { aliasDomains, aliases } from "./schema.ts";
import { domainForms, isValidDomain, isValidLocal, normDomain, normLocal, splitAddress } from "./address.ts";
import { dbDirectory, toAliasRow, withOverrides, type AliasesDb, type AliasRow, type Directory } from "./directory.ts";
import { createExpander, Lookup, type ExpandConfig } from "./expand.ts";

/** A refused alias change: NONEXISTENT (no such alias) or INVALID (bad input, loop …). */
export class AliasAdminError extends Error {
  constructor(
    message: string,
    readonly code: "NONEXISTENT" | "INVALID" = "INVALID",
  ) {
    super(message);
    this.name = "AliasAdminError";
  }
}

export const DEFAULT_EXPAND: ExpandConfig = { caseSensitive: false, separator: "+", tagFolder: false, maxDepth: 10, maxExpansion: 10_000 };

export interface AliasInput {
  /** "local@domain", or "@domain" for the domain's catch-all. */
  address: string;
  targets: string[];
  kind?: "alias" | "group";
  /** Groups only (implies kind "group"): only members may post. */
  membersOnly?: boolean;
  /** Users (account addresses) who may send as this address. */
  senders?: string[];
}

export interface AddOptions {
  /** Replace the targets (and flags) of an existing alias instead of adding to them. */
  replace?: boolean;
  expand?: Partial<ExpandConfig>;
}

const fail = (msg: string, code?: AliasAdminError["code"]): never => {
  throw new AliasAdminError(msg, code);
};

function cfgOf(p?: Partial<ExpandConfig>): ExpandConfig {
  return { ...DEFAULT_EXPAND, ...p };
}

/** Shape check of "local@domain" (or "@domain" when `catchAll`). */
function parseAddress(raw: string, what: string, allowCatchAll: boolean): { local: string; domain: string } {
  const s = raw.trim();
  if (allowCatchAll && s.startsWith("@")) {
    const d = s.slice(1);
    if (!isValidDomain(d)) fail(`${what} "${raw}" is not an address like user@example.com or @example.com`);
    return { local: "", domain: normDomain(d) };
  }
  const p = splitAddress(s);
  if (!p || !isValidLocal(p.local) || !isValidDomain(p.domain)) fail(`${what} "${raw}" is not an address like user@example.com`);
  return { local: p!.local, domain: normDomain(p!.domain) };
}

/** The stored spelling of an alias address: the local domain's stored name, local part folded. */
async function aliasKey(lk: Lookup, raw: string, cfg: ExpandConfig): Promise<string> {
  const p = parseAddress(raw, "address", true);
  const probe = `${p.local}@${p.domain}`;
  await lk.prefetch([probe]);
  const info = lk.domain(p.domain);
  if (!info) fail(`${p.domain} is not a local domain (add it first: kotakpos domain add ${p.domain})`);
  if (info!.kind === "loop") fail(`domain alias loop: ${info!.chain.join(" -> ")}`);
  const local = info as Extract<typeof info, { kind: "local" }>;
  if (local.rewritten) fail(`${p.domain} is an alias of ${local.canonical}: add the alias there`);
  const canonical = local.canonical;
  return p.local === "" ? `@${canonical}` : `${normLocal(p.local, cfg.caseSensitive)}@${canonical}`;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Create an alias, or add targets to an existing one (or replace them). Returns the row. */
export async function addAlias(ad: AliasesDb, input: AliasInput, opts: AddOptions = {}): Promise<AliasRow> {
  const cfg = cfgOf(opts.expand);
  const dir = dbDirectory(ad);
  const lk = new Lookup(dir, cfg);
  const address = await aliasKey(lk, input.address, cfg);
  if (!input.targets.length && !opts.replace && !input.senders?.length && input.membersOnly === undefined && !input.kind) fail("give at least one target");

  // Targets: well-formed; local ones in their canonical spelling, remote ones as given
  // with the domain normalized.
  for (const t of input.targets) parseAddress(t, "target", false);
  await lk.prefetch(input.targets);
  const targets = input.targets.map((t) => {
    const p = splitAddress(t.trim())!;
    return lk.domain(p.domain) ? lk.canonical(t.trim()) : `${p.local}@${normDomain(p.domain)}`;
  });

  const existing = (await dir.aliases([address])).get(address) ?? null;
  const senders = await checkSenders(ad, input.senders ?? []);
  const merged: AliasRow = {
    address,
    targets: [...new Set(opts.replace || !existing ? targets : [...existing.targets, ...targets])],
    kind: input.membersOnly ? "group" : (input.kind ?? existing?.kind ?? "alias"),
    membersOnly: input.membersOnly ?? existing?.membersOnly ?? false,
    senders: [...new Set(opts.replace || !existing ? senders : [...existing.senders, ...senders])],
  };
  if (!merged.targets.length) fail(`${address} needs at least one target`);
  if (merged.membersOnly && merged.kind !== "group") fail("only a group can be members-only");

  // An alias in front of a user hides the user's mailbox unless the user is a target
  // ("forward and keep a copy").
  if (!address.startsWith("@")) {
    const acct = (await dir.accounts([address], !cfg.caseSensitive)).get(address);
    if (acct && !merged.targets.includes(address)) fail(`${address} is a user: to forward its mail and keep a copy, add ${address} itself as a target`);
  }

  // Dry run of the expansion with the new row in place: loops, depth, size, dead targets.
  const probe = createExpander(withOverrides(dir, new Map([[address, merged]])), cfg);
  const e = await probe.expand(address);
  if (e.kind === "error") fail(`refused: ${e.message}`);
  if (e.kind === "ok") {
    const dead = merged.targets.filter((t) => e.skipped.includes(t));
    if (dead.length) fail(`no such user or alias: ${dead.join(", ")}`);
  }

  const row = {
    address,
    targets: JSON.stringify(merged.targets),
    kind: merged.kind,
    membersOnly: merged.membersOnly,
    senders: JSON.stringify(merged.senders),
  };
  if (existing && sameSet(existing.targets, merged.targets) && existing.kind === merged.kind && existing.membersOnly === merged.membersOnly && sameSet(existing.senders, merged.senders)) return merged;
  await ad.db.write((tx) =>
    tx.orm
      .insert(aliases)
      .values({ ...row, createdAt: Date.now() })
      .onConflictDoUpdate({ target: aliases.address, set: row }),
  );
  return merged;
}

/** Senders must be existing accounts; stored lower-cased. */
async function checkSenders(ad: AliasesDb, raw: string[]): Promise<string[]> {
  if (!raw.length) return [];
  const out: string[] = [];
  const dir = dbDirectory(ad);
  for (const s of raw) {
    const p = parseAddress(s, "sender", false);
    const a = `${p.local}@${p.domain}`;
    const found = (await dir.accounts([a], true)).get(a);
    if (!found) fail(`sender ${s} is not a user here`);
    out.push(found!.address.toLowerCase());
  }
  return out;
}

/** An existing alias's address in its canonical spelling, with the lookup that found it. */
async function lookupAlias(ad: AliasesDb, rawAddress: string, expand?: Partial<ExpandConfig>): Promise<{ dir: ReturnType<typeof dbDirectory>; lk: Lookup; address: string }> {
  const dir = dbDirectory(ad);
  const lk = new Lookup(dir, cfgOf(expand));
  const p = parseAddress(rawAddress, "address", true);
  await lk.prefetch([`${p.local}@${p.domain}`]);
  return { dir, lk, address: lk.canonical(`${p.local}@${p.domain}`) };
}

/** Delete an alias, or only some of its targets (the alias goes when none is left). */
export async function removeAlias(ad: AliasesDb, rawAddress: string, targets: string[] = [], expand?: Partial<ExpandConfig>): Promise<{ deleted: boolean; row: AliasRow | null }> {
  const { dir, lk, address } = await lookupAlias(ad, rawAddress, expand);
  const existing = (await dir.aliases([address])).get(address);
  if (!existing) fail(`no alias ${address}`, "NONEXISTENT");
  if (targets.length) {
    await lk.prefetch(targets);
    const drop = new Set(targets.map((t) => lk.canonical(t.trim())));
    const left = existing!.targets.filter((t) => !drop.has(lk.canonical(t)) && !drop.has(t));
    if (left.length === existing!.targets.length) fail(`${address} has none of these targets: ${targets.join(", ")}`);
    if (left.length) {
      await ad.db.write((tx) =>
        tx.orm
          .update(aliases)
          .set({ targets: JSON.stringify(left) })
          .where(eq(aliases.address, address)),
      );
      return { deleted: false, row: { ...existing!, targets: left } };
    }
  }
  await ad.db.write((tx) => tx.orm.delete(aliases).where(eq(aliases.address, address)));
  return { deleted: true, row: null };
}

export async function getAlias(ad: AliasesDb, rawAddress: string, expand?: Partial<ExpandConfig>): Promise<AliasRow | null> {
  const { dir, address } = await lookupAlias(ad, rawAddress, expand);
  return (await dir.aliases([address])).get(address) ?? null;
}

/** Every alias (and catch-all), by address; optionally of one domain. */
export async function listAliases(ad: AliasesDb, opts: { domain?: string } = {}): Promise<AliasRow[]> {
  const rows = (await ad.db.orm.select().from(aliases).orderBy(aliases.address)).map(toAliasRow);
  if (!opts.domain) return rows;
  const d = normDomain(opts.domain);
  return rows.filter((r) => normDomain(r.address.slice(r.address.lastIndexOf("@") + 1)) === d);
}

// ---- catch-all: the "@domain" alias row ----

export async function setCatchAll(ad: AliasesDb, domain: string, targets: string[], expand?: Partial<ExpandConfig>): Promise<AliasRow> {
  return addAlias(ad, { address: `@${domain.replace(/^@/, "")}`, targets }, { replace: true, expand });
}

export async function removeCatchAll(ad: AliasesDb, domain: string): Promise<boolean> {
  try {
    return (await removeAlias(ad, `@${domain.replace(/^@/, "")}`)).deleted;
  } catch (e) {
    if (e instanceof AliasAdminError && e.code === "NONEXISTENT") return false;
    throw e;
  }
}

// ---- domain aliases: every address of one domain is the same address of another ----

export interface DomainAlias {
  domain: string;
  target: string;
}

export async function addDomainAlias(ad: AliasesDb, rawAlias: string, rawTarget: string): Promise<DomainAlias> {
  if (!isValidDomain(rawAlias)) fail(`"${rawAlias}" is not a domain name like example.org`);
  if (!isValidDomain(rawTarget)) fail(`"${rawTarget}" is not a domain name like example.com`);
  const dir: Directory = dbDirectory(ad);
  const alias = normDomain(rawAlias);
  const infos = await dir.domains([alias, normDomain(rawTarget)]);
  const target = infos.get(normDomain(rawTarget));
  if (!target) fail(`${normDomain(rawTarget)} is not a local domain (add it first: kotakpos domain add ${normDomain(rawTarget)})`);
  if (target!.kind === "loop") fail(`domain alias loop: ${target!.chain.join(" -> ")}`);
  const canonical = (target as Extract<typeof target, { kind: "local" }>).canonical;
  if (normDomain(canonical) === alias) fail(`refused: domain alias loop: ${alias} -> ${normDomain(rawTarget)} -> ${alias}`);
  const all = await ad.store.listDomains();
  const targetRow = all.find((d) => d.name === canonical)!;
  const forms = domainForms(alias);
  const current = all.find((d) => forms.includes(d.name));
  let domainId: number;
  if (current) {
    // An existing domain becomes an alias only if nothing of its own would be hidden.
    if ((await ad.store.listAccounts(current.name)).length) fail(`${alias} has users: a domain alias would hide their mailboxes (delete them first)`);
    const own = (await listAliases(ad, { domain: alias })).length;
    if (own) fail(`${alias} has ${own} alias(es) of its own: delete them first`);
    domainId = current.id;
  } else {
    domainId = (await ad.store.addDomain(alias)).id;
  }
  await ad.db.write((tx) =>
    tx.orm
      .insert(aliasDomains)
      .values({ domainId, aliasOf: targetRow.id })
      .onConflictDoUpdate({ target: aliasDomains.domainId, set: { aliasOf: targetRow.id } }),
  );
  return { domain: alias, target: canonical };
}

/** Stop aliasing a domain: the domain goes (it never had users of its own). */
export async function removeDomainAlias(ad: AliasesDb, rawAlias: string): Promise<boolean> {
  const alias = normDomain(rawAlias);
  const row = (await domainAliasRows(ad)).find((r) => normDomain(r.domain.name) === alias);
  if (!row) return false;
  await ad.store.deleteDomain(row.domain.name);
  await ad.db.write((tx) => tx.orm.delete(aliasDomains).where(eq(aliasDomains.domainId, row.domain.id)));
  return true;
}

export async function listDomainAliases(ad: AliasesDb): Promise<DomainAlias[]> {
  return (await domainAliasRows(ad)).map((r) => ({ domain: r.domain.name, target: r.target?.name ?? `#${r.aliasOf}` }));
}

/** Domains (through the Store) that this plugin's rows make aliases, by name. */
async function domainAliasRows(ad: AliasesDb): Promise<{ domain: Domain; aliasOf: number; target: Domain | undefined }[]> {
  const all = await ad.store.listDomains(); // ordered by name
  const byId = new Map(all.map((d) => [d.id, d]));
  const aliasOf = new Map((await ad.db.orm.select().from(aliasDomains).where(isNotNull(aliasDomains.aliasOf))).map((r) => [r.domainId, r.aliasOf!]));
  return all.filter((d) => aliasOf.has(d.id)).map((d) => ({ domain: d, aliasOf: aliasOf.get(d.id)!, target: byId.get(aliasOf.get(d.id)!) }));
}
