// The aliases plugin's admin methods (Plugin.admin): what `kotakpos alias …` calls, in the
// running server through the control socket or on the database directly. Arguments and
// results are JSON; the rows are those of the aliases table (targets/senders as JSON text).
import type { AliasesDb } from "./directory.ts";
import { aliases } from "./schema.ts";
import { AliasAdminError, addAlias, addDomainAlias, getAlias, listDomainAliases, removeAlias, removeDomainAlias, type DomainAlias } from "./admin.ts";
import type { ExpandConfig } from "./expand.ts";

export type AliasInsert = typeof aliases.$inferInsert;
export type AliasDbRow = typeof aliases.$inferSelect;

export function aliasesAdmin(ad: AliasesDb, expand: Partial<ExpandConfig>) {
  return {
    /** Checked (targets exist, senders are users, no loop; throws with the reason).
     *  "create" (default): false when the alias exists already; "append": add targets and
     *  senders to it; "replace": replace them. */
    async add(row: AliasInsert, mode: "create" | "append" | "replace" = "create"): Promise<boolean> {
      if (mode === "create" && (await getAlias(ad, row.address, expand))) return false;
      const list = (json: string | undefined): string[] | undefined => (json === undefined ? undefined : (JSON.parse(json) as string[]));
      const kind = row.kind === undefined ? undefined : row.kind === "group" ? "group" : "alias";
      await addAlias(ad, { address: row.address, targets: list(row.targets) ?? [], kind, membersOnly: row.membersOnly, senders: list(row.senders) }, { replace: mode === "replace", expand });
      return true;
    },
    list: async (): Promise<AliasDbRow[]> => ad.db.orm.select().from(aliases).orderBy(aliases.address),
    /** The whole alias, or only these targets of it; false when there is no such alias. */
    async delete(address: string, targets: string[] = []): Promise<boolean> {
      try {
        await removeAlias(ad, address, targets, expand);
        return true;
      } catch (e) {
        if (e instanceof AliasAdminError && e.code === "NONEXISTENT") return false;
        throw e;
      }
    },
    /** Domain aliases: all mail to `domain` is mail to the same address at `target`. */
    addDomain: (domain: string, target: string): Promise<DomainAlias> => addDomainAlias(ad, domain, target),
    deleteDomain: (domain: string): Promise<boolean> => removeDomainAlias(ad, domain),
    listDomains: (): Promise<DomainAlias[]> => listDomainAliases(ad),
  };
}

export type AliasesAdmin = ReturnType<typeof aliasesAdmin>;
