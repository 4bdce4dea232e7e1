// Recursive alias expansion. Two phases: load the reachable alias graph breadth-first
// (batched lookups, one level at a time, bounded by depth and size), then walk it in
// memory to find loops and the longest nesting, and collect the deliveries — once per
// account and once per remote address, however many paths lead there.
import { normDomain, normLocal, splitAddress, splitTag } from "./address.ts";
import type { AccountRow, AliasRow, Directory, DomainInfo } from "./directory.ts";

export interface ExpandConfig {
  caseSensitive: boolean;
  /** Sub-address separator characters ("" = off). */
  separator: string;
  /** Deliver user+tag@ into the folder "tag" when the account has it. */
  tagFolder: boolean;
  /** Most alias levels between the recipient and a mailbox. */
  maxDepth: number;
  /** Most distinct addresses one recipient may expand to. */
  maxExpansion: number;
}

export interface LocalLeaf {
  accountId: number;
  address: string;
  mailbox: string;
}

export type ExpandError = { kind: "loop"; path: string[] } | { kind: "depth"; limit: number } | { kind: "too-many"; limit: number } | { kind: "domain-loop"; chain: string[] };

export type Expansion =
  /** Not an address of a local domain (or not an address at all). */
  | { kind: "notlocal" }
  /** A local domain, but no alias, account or catch-all has it. */
  | { kind: "unknown"; address: string; rewritten: boolean }
  | { kind: "disabled"; address: string }
  | { kind: "error"; error: ExpandError; message: string }
  | {
      kind: "ok";
      /** Canonical form of the recipient (domain aliases followed, case folded). */
      address: string;
      domain: string;
      /** The alias row the recipient itself matched (null: an account). */
      root: AliasRow | null;
      local: LocalLeaf[];
      remote: string[];
      /** Targets that lead nowhere (unknown or disabled local addresses). */
      skipped: string[];
      /** Canonical addresses inside the expansion, lower-cased (for "members only"). */
      members: Set<string>;
    };

type Node =
  | { t: "alias"; key: string; row: AliasRow }
  | { t: "account"; acct: AccountRow; tag: string | null }
  | { t: "remote"; address: string }
  | { t: "unknown"; address: string; rewritten: boolean }
  | { t: "disabled"; address: string }
  | { t: "domain-loop"; chain: string[] };

function nodeId(n: Node): string {
  switch (n.t) {
    case "alias":
      return `a:${n.key}`;
    case "account":
      return `u:${n.acct.id}:${n.tag ?? ""}`;
    case "remote":
      return `r:${n.address.toLowerCase()}`;
    case "unknown":
    case "disabled":
      return `x:${n.address}`;
    case "domain-loop":
      return `d:${n.chain.join(">")}`;
  }
}

/** `domains.catchAll` holds one address or a list (JSON array, or comma/space separated). */
function catchAllTargets(v: string): string[] {
  const s = v.trim();
  if (s.startsWith("[")) {
    try {
      const a: unknown = JSON.parse(s);
      if (Array.isArray(a)) return a.filter((x): x is string => typeof x === "string");
    } catch {
      /* fall through to the plain list */
    }
  }
  return s.split(/[\s,]+/).filter(Boolean);
}

/** An address, or "@domain" (the domain's catch-all, local part ""). */
function parseTarget(address: string): { local: string; domain: string } | null {
  if (address.startsWith("@")) return address.length > 1 && !address.includes("@", 1) ? { local: "", domain: address.slice(1) } : null;
  return splitAddress(address);
}

/** Per-expansion caches over a Directory: each address is looked up once. */
export class Lookup {
  private doms = new Map<string, DomainInfo | null>();
  private als = new Map<string, AliasRow | null>();
  private accts = new Map<string, AccountRow | null>();

  constructor(
    private dir: Directory,
    private cfg: ExpandConfig,
  ) {}

  /** Fetch what `classify` will need for these addresses: 3 queries at most. */
  async prefetch(addresses: string[]): Promise<void> {
    const parsed = addresses.map(parseTarget).filter((p) => p !== null);
    const newDoms = [...new Set(parsed.map((p) => normDomain(p.domain)))].filter((d) => !this.doms.has(d));
    if (newDoms.length) {
      const m = await this.dir.domains(newDoms);
      for (const d of newDoms) this.doms.set(d, m.get(d) ?? null);
    }
    const keys = new Set<string>();
    for (const p of parsed) {
      const info = this.doms.get(normDomain(p.domain));
      if (info?.kind !== "local") continue;
      keys.add(`@${info.canonical}`);
      if (p.local === "") continue; // "@domain": the catch-all itself
      const local = normLocal(p.local, this.cfg.caseSensitive);
      keys.add(`${local}@${info.canonical}`);
      const tag = splitTag(local, this.cfg.separator);
      if (tag) keys.add(`${tag.base}@${info.canonical}`);
    }
    const fresh = [...keys].filter((k) => !this.als.has(k));
    if (!fresh.length) return;
    const [a, u] = await Promise.all([
      this.dir.aliases(fresh),
      this.dir.accounts(
        fresh.filter((k) => !k.startsWith("@")),
        !this.cfg.caseSensitive,
      ),
    ]);
    for (const k of fresh) {
      this.als.set(k, a.get(k) ?? null);
      this.accts.set(k, u.get(k) ?? null);
    }
  }

  domain(name: string): DomainInfo | null {
    return this.doms.get(normDomain(name)) ?? null;
  }

  /** Canonical spelling: local part folded, domain aliases followed (after prefetch). */
  canonical(address: string): string {
    const p = parseTarget(address);
    if (!p) return address.toLowerCase();
    const info = this.domain(p.domain);
    if (info?.kind !== "local") return `${p.local}@${normDomain(p.domain)}`.toLowerCase();
    return `${p.local === "" ? "" : normLocal(p.local, this.cfg.caseSensitive)}@${info.canonical}`;
  }

  /** What an address is (after prefetch). `parent` is the alias being expanded: a target
   *  equal to its own alias address means the account of that name ("forward and keep a copy"). */
  classify(address: string, parent?: string): Node {
    const p = parseTarget(address);
    if (!p) return { t: "unknown", address, rewritten: false };
    const info = this.domain(p.domain);
    if (!info) return p.local === "" ? { t: "unknown", address, rewritten: false } : { t: "remote", address };
    if (info.kind === "loop") return { t: "domain-loop", chain: info.chain };
    if (p.local === "") return this.catchAll(info) ?? { t: "unknown", address: `@${info.canonical}`, rewritten: info.rewritten };
    const local = normLocal(p.local, this.cfg.caseSensitive);
    const addr = `${local}@${info.canonical}`;
    const acct = this.accts.get(addr);
    if (parent === addr && acct) return acct.disabled ? { t: "disabled", address: addr } : { t: "account", acct, tag: null };
    const row = this.als.get(addr);
    if (row) return { t: "alias", key: addr, row };
    if (acct) return acct.disabled ? { t: "disabled", address: addr } : { t: "account", acct, tag: null };
    const tag = splitTag(local, this.cfg.separator);
    if (tag) {
      const base = `${tag.base}@${info.canonical}`;
      const brow = this.als.get(base);
      if (brow) return { t: "alias", key: base, row: brow };
      const bacct = this.accts.get(base);
      // The folder name keeps the case the sender wrote.
      if (bacct) return bacct.disabled ? { t: "disabled", address: base } : { t: "account", acct: bacct, tag: splitTag(p.local, this.cfg.separator)!.tag };
    }
    return this.catchAll(info) ?? { t: "unknown", address: addr, rewritten: info.rewritten };
  }

  /** The domain's catch-all: an "@domain" alias row, else `domains.catchAll`. */
  private catchAll(info: Extract<DomainInfo, { kind: "local" }>): Node | null {
    const key = `@${info.canonical}`;
    const row = this.als.get(key);
    if (row) return { t: "alias", key, row };
    if (info.catchAll) return { t: "alias", key, row: { address: key, targets: catchAllTargets(info.catchAll), kind: "alias", membersOnly: false, senders: [] } };
    return null;
  }
}

function describe(e: ExpandError, maxDepth: number): string {
  switch (e.kind) {
    case "loop":
      return `alias loop: ${e.path.join(" -> ")}`;
    case "depth":
      return `aliases nested deeper than ${maxDepth} levels`;
    case "too-many":
      return `alias expands to more than ${e.limit} addresses`;
    case "domain-loop":
      return `domain alias loop: ${e.chain.join(" -> ")}`;
  }
}

export interface Expander {
  expand(address: string): Promise<Expansion>;
  /** Canonical forms of an address (itself, and without its +tag) for membership checks. */
  forms(address: string): Promise<string[]>;
  /** Domain info of one domain (null: not local). */
  domain(name: string): Promise<DomainInfo | null>;
}

export function createExpander(dir: Directory, cfg: ExpandConfig): Expander {
  const fail = (error: ExpandError): Expansion => ({ kind: "error", error, message: describe(error, cfg.maxDepth) });

  async function expand(address: string): Promise<Expansion> {
    const L = new Lookup(dir, cfg);
    await L.prefetch([address]);
    const root = L.classify(address);
    switch (root.t) {
      case "domain-loop":
        return fail({ kind: "domain-loop", chain: root.chain });
      case "remote":
        return { kind: "notlocal" };
      case "unknown":
        return parseTarget(address) ? { kind: "unknown", address: root.address, rewritten: root.rewritten } : { kind: "notlocal" };
      case "disabled":
        return { kind: "disabled", address: root.address };
    }
    const canonical = L.canonical(address);
    const domain = canonical.slice(canonical.lastIndexOf("@") + 1);

    // Phase 1: the reachable graph, level by level.
    const nodes = new Map<string, Node>([[nodeId(root), root]]);
    const edges = new Map<string, string[]>();
    let frontier: Extract<Node, { t: "alias" }>[] = root.t === "alias" ? [root] : [];
    for (let level = 0; frontier.length; level++) {
      if (level >= cfg.maxDepth) return fail({ kind: "depth", limit: cfg.maxDepth });
      await L.prefetch(frontier.flatMap((n) => n.row.targets));
      const next: typeof frontier = [];
      for (const n of frontier) {
        const kids: string[] = [];
        for (const t of n.row.targets) {
          const c = L.classify(t, n.key);
          if (c.t === "domain-loop") return fail({ kind: "domain-loop", chain: c.chain });
          const id = nodeId(c);
          kids.push(id);
          if (nodes.has(id)) continue;
          nodes.set(id, c);
          if (nodes.size > cfg.maxExpansion) return fail({ kind: "too-many", limit: cfg.maxExpansion });
          if (c.t === "alias") next.push(c);
        }
        edges.set(nodeId(n), kids);
      }
      frontier = next;
    }

    // Phase 2: depth-first over alias nodes (iterative): a grey node met again is a loop;
    // the height of the root is the deepest nesting along any path.
    const colour = new Map<string, "grey" | "black">();
    const height = new Map<string, number>();
    const stack: { id: string; i: number }[] = [];
    if (root.t === "alias") {
      stack.push({ id: nodeId(root), i: 0 });
      colour.set(nodeId(root), "grey");
    }
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const kids = edges.get(top.id) ?? [];
      if (top.i < kids.length) {
        const c = kids[top.i++]!;
        if (!c.startsWith("a:")) continue;
        const col = colour.get(c);
        if (col === "grey") {
          const from = stack.findIndex((s) => s.id === c);
          return fail({ kind: "loop", path: [...stack.slice(from).map((s) => s.id.slice(2)), c.slice(2)] });
        }
        if (!col) {
          colour.set(c, "grey");
          stack.push({ id: c, i: 0 });
        }
        continue;
      }
      stack.pop();
      colour.set(top.id, "black");
      height.set(top.id, 1 + Math.max(0, ...kids.filter((k) => k.startsWith("a:")).map((k) => height.get(k) ?? 0)));
    }
    if ((height.get(nodeId(root)) ?? 0) > cfg.maxDepth) return fail({ kind: "depth", limit: cfg.maxDepth });

    // Deliveries, in breadth-first order: the first path to an account chooses its folder.
    const local: LocalLeaf[] = [];
    const seenAcct = new Set<number>();
    const remote: string[] = [];
    const skipped: string[] = [];
    const members = new Set<string>();
    for (const n of nodes.values()) {
      switch (n.t) {
        case "alias":
          members.add(n.key.toLowerCase());
          break;
        case "account":
          members.add(n.acct.address.toLowerCase());
          if (seenAcct.has(n.acct.id)) break;
          seenAcct.add(n.acct.id);
          local.push({ accountId: n.acct.id, address: n.acct.address, mailbox: n.tag !== null && cfg.tagFolder ? await tagFolder(n.acct.id, n.tag) : "INBOX" });
          break;
        case "remote":
          members.add(n.address.toLowerCase());
          remote.push(n.address);
          break;
        case "unknown":
        case "disabled":
          skipped.push(n.address);
          break;
      }
    }
    if (root.t === "alias") for (const t of root.row.targets) members.add(L.canonical(t).toLowerCase());
    return { kind: "ok", address: canonical, domain, root: root.t === "alias" ? root.row : null, local, remote, skipped, members };
  }

  /** The folder named like the tag (exactly, else case-insensitively), else INBOX. */
  async function tagFolder(accountId: number, tag: string): Promise<string> {
    if (!tag) return "INBOX";
    const names = await dir.mailboxes(accountId);
    return names.find((n) => n === tag) ?? names.find((n) => n.toLowerCase() === tag.toLowerCase()) ?? "INBOX";
  }

  return {
    expand,
    async forms(address) {
      const L = new Lookup(dir, cfg);
      await L.prefetch([address]);
      const c = L.canonical(address);
      const p = splitAddress(c);
      const tag = p && splitTag(p.local, cfg.separator);
      return tag ? [c, `${tag.base}@${p.domain}`] : [c];
    },
    async domain(name) {
      const m = await dir.domains([normDomain(name)]);
      return m.get(normDomain(name)) ?? null;
    },
  };
}
