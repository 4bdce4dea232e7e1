// Safe upgrades: a database made by the previous schema is backed up before it is
// migrated; a newer schema is refused by an older binary; a failing migration leaves the
// database readable by the old code.
import { afterAll, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "./open.ts";
import { migrationFiles } from "./migrations.gen.ts";
import { schemaOf, SchemaTooNewError, type MigrationFiles } from "./schema-version.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-upgrade-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** This binary's migrations plus one more (a later journal entry). */
function withExtra(tag: string, sql: string): MigrationFiles {
  const journal = JSON.parse(migrationFiles["meta/_journal.json"]!) as { entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[] };
  const last = journal.entries.at(-1)!;
  journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 60_000, tag, breakpoints: true });
  return { ...migrationFiles, "meta/_journal.json": JSON.stringify(journal), [`${tag}.sql`]: sql };
}

async function domainsIn(path: string): Promise<string[]> {
  const c = createClient({ url: `file:${path}` });
  try {
    return (await c.execute("SELECT name FROM domains ORDER BY name")).rows.map((r) => String(r.name));
  } finally {
    c.close();
  }
}

async function makeOld(name: string): Promise<string> {
  const path = join(tmp, name, "kotakpos.db");
  const db = await openDb({ url: `file:${path}` });
  await db.write((tx) => tx.execute("INSERT INTO domains (name, created_at) VALUES ('old.test', 1)"));
  await db.close();
  return path;
}

test("an older database is backed up, then migrated; the older binary then refuses it", async () => {
  const path = await makeOld("a");
  const newer = withExtra("9998_probe", "CREATE TABLE upgrade_probe (id integer PRIMARY KEY);");
  const backups: string[] = [];
  const db = await openDb({ url: `file:${path}`, migrations: newer, onBackup: (p) => backups.push(p) });
  await db.query("SELECT count(*) FROM upgrade_probe");
  await db.close();
  expect(backups.length).toBe(1);
  expect(backups[0]!).toStartWith(join(tmp, "a", "backups", "pre-upgrade-schema"));
  expect(await domainsIn(backups[0]!)).toEqual(["old.test"]);

  // opening again at the same schema takes no new backup
  const again = await openDb({ url: `file:${path}`, migrations: newer, onBackup: (p) => backups.push(p) });
  await again.close();
  expect(backups.length).toBe(1);

  // this binary's schema is now older than the database's: a clear refusal
  const err = await openDb({ url: `file:${path}` }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SchemaTooNewError);
  expect((err as Error).message).toBe(
    `the database has schema ${schemaOf(newer).count} from a newer kotakpos; this binary knows schema ${schemaOf().count} (${schemaOf().tag}): run the newer version, or restore a backup made before the upgrade`,
  );
});

test("only the newest three pre-upgrade backups are kept", async () => {
  const path = await makeOld("k");
  let files = migrationFiles;
  for (let i = 0; i < 5; i++) {
    const journal = JSON.parse(files["meta/_journal.json"]!) as { entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[] };
    const last = journal.entries.at(-1)!;
    const tag = `999${i}_step`;
    journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 60_000, tag, breakpoints: true });
    files = { ...files, "meta/_journal.json": JSON.stringify(journal), [`${tag}.sql`]: `CREATE TABLE step${i} (id integer);` };
    const db = await openDb({ url: `file:${path}`, migrations: files });
    await db.close();
  }
  expect(readdirSync(join(tmp, "k", "backups")).length).toBe(3);
});

test("a failing migration leaves the database as the old code knows it", async () => {
  const path = await makeOld("b");
  const broken = withExtra("9999_broken", "CREATE TABLE half_done (id integer);\n--> statement-breakpoint\nINSERT INTO no_such_table VALUES (1);");
  await expect(openDb({ url: `file:${path}`, migrations: broken })).rejects.toThrow(/no_such_table/);
  // the old binary opens it and finds everything, and nothing of the failed migration
  const db = await openDb({ url: `file:${path}` });
  const tables = (await db.query("SELECT name FROM sqlite_master WHERE name = 'half_done'")).rows;
  await db.close();
  expect(tables).toEqual([]);
  expect(await domainsIn(path)).toEqual(["old.test"]);
  expect(existsSync(join(tmp, "b", "backups"))).toBe(true);
});
