// The one-time setup token (DESIGN: the wizard is locked by a token made at first start):
// kept in <data>/setup.token (mode 0600) until setup is finished, then deleted; a
// "console.setupDone" setting makes sure the wizard never runs again.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../core/db/open.ts";
import { randomToken, sameString } from "./crypto.ts";

const DONE = "console.setupDone";

export async function getSetting(db: Db, key: string): Promise<string | undefined> {
  const r = await db.query({ sql: "SELECT value FROM settings WHERE key = ?", args: [key] });
  return r.rows[0] ? String(r.rows[0].value) : undefined;
}

export async function setSetting(db: Db, key: string, value: string): Promise<void> {
  await db.write((tx) => tx.execute({ sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", args: [key, value] }));
}

export function createSetupState(db: Db, dataDir: string) {
  const file = join(dataDir, "setup.token");
  let done: boolean | undefined;
  const state = {
    async isDone(): Promise<boolean> {
      return (done ??= (await getSetting(db, DONE)) === "1");
    },
    /** The token (made on first call while setup is not done); undefined once done. */
    async token(): Promise<string | undefined> {
      if (await state.isDone()) return undefined;
      if (existsSync(file)) return readFileSync(file, "utf8").trim();
      const t = randomToken(24);
      writeFileSync(file, t + "\n", { mode: 0o600 });
      return t;
    },
    async valid(given: string | undefined): Promise<boolean> {
      const t = await state.token();
      return t !== undefined && sameString(given, t);
    },
    async finish(): Promise<void> {
      await setSetting(db, DONE, "1");
      done = true;
      rmSync(file, { force: true });
    },
  };
  return state;
}

export type SetupState = ReturnType<typeof createSetupState>;
