// The schema this binary carries: its embedded drizzle migrations, in order. A database
// records the migrations applied to it in __drizzle_migrations; more there than here
// means a newer kotakpos wrote it.
import { migrationFiles } from "./migrations.gen.ts";

export interface SchemaInfo {
  /** Number of migrations (the schema version). */
  count: number;
  /** Tag of the newest one, e.g. "0003_quota". */
  tag: string;
}

export function embeddedSchema(): SchemaInfo {
  const journal = JSON.parse(migrationFiles["meta/_journal.json"]!) as { entries: { tag: string }[] };
  return { count: journal.entries.length, tag: journal.entries.at(-1)?.tag ?? "" };
}
