// The schema a binary carries (its embedded drizzle migrations, in order) and the one a
// database has (the rows drizzle's migrator wrote to __drizzle_migrations). drizzle
// applies every migration newer than the database's newest `created_at`; a database whose
// newest is later than ours was written by a newer kotakpos.
import type { Client } from "@libsql/client";
import { migrationFiles } from "./migrations.gen.ts";

export interface SchemaInfo {
  /** Number of migrations (the schema version). */
  count: number;
  /** Tag of the newest one, e.g. "0003_quota". */
  tag: string;
  /** Its journal time (drizzle's folderMillis). */
  newest: number;
}

export type MigrationFiles = Record<string, string>;

export function schemaOf(files: MigrationFiles = migrationFiles): SchemaInfo {
  const journal = JSON.parse(files["meta/_journal.json"]!) as { entries: { tag: string; when: number }[] };
  const last = journal.entries.at(-1);
  return { count: journal.entries.length, tag: last?.tag ?? "", newest: last?.when ?? 0 };
}

export const embeddedSchema = (): SchemaInfo => schemaOf(migrationFiles);

export interface DbSchemaState {
  /** Migrations applied (0 for a new database). */
  applied: number;
  /** created_at of the newest applied one (0 when none). */
  newest: number;
}

export async function dbSchemaState(client: Client): Promise<DbSchemaState> {
  const t = await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'");
  if (t.rows.length === 0) return { applied: 0, newest: 0 };
  const r = await client.execute("SELECT count(*) AS n, coalesce(max(created_at), 0) AS newest FROM __drizzle_migrations");
  return { applied: Number(r.rows[0]!.n), newest: Number(r.rows[0]!.newest) };
}

/** Thrown when the database was migrated by a newer kotakpos than this one. */
export class SchemaTooNewError extends Error {
  constructor(db: DbSchemaState, ours: SchemaInfo) {
    super(`the database has schema ${db.applied} from a newer kotakpos; this binary knows schema ${ours.count} (${ours.tag}): run the newer version, or restore a backup made before the upgrade`);
    this.name = "SchemaTooNewError";
  }
}
