// Health: the checks run on start and every few hours; each check's history keeps only
// the runs that changed something, and a change mails the admins one message listing
// just what changed (as Mail-in-a-Box's status page does).
import type { Db } from "../../core/db/open.ts";
import type { Logger } from "../../core/types.ts";
import type { CheckResult, Status } from "./checks.ts";

export interface HealthChange {
  check: CheckResult;
  before: Status | null;
}

export interface HistoryRow {
  checkId: string;
  status: Status;
  summary: string;
  at: number;
}

/** What must differ for a run to count as a change: the status and which items fail. */
export const signatureOf = (r: CheckResult): string =>
  [
    r.status,
    ...(r.items ?? [])
      .filter((i) => i.status !== "pass")
      .map((i) => `${i.label}:${i.status}`)
      .sort(),
  ].join("|");

export function createHealth(opts: { db: Db; log: Logger; run: () => Promise<CheckResult[]>; alert: (changes: HealthChange[]) => Promise<void> }) {
  const { db } = opts;
  let latest: { at: number; results: CheckResult[] } | undefined;
  let running: Promise<HealthChange[]> | undefined;

  async function lastOf(): Promise<Map<string, { status: Status; signature: string }>> {
    // The newest row of each check.
    const r = await db.query("SELECT h.check_id, h.status, h.signature FROM health_history h JOIN (SELECT check_id, MAX(id) AS id FROM health_history GROUP BY check_id) m ON m.id = h.id");
    return new Map(r.rows.map((x) => [String(x.check_id), { status: String(x.status) as Status, signature: String(x.signature) }]));
  }

  async function runOnce(): Promise<HealthChange[]> {
    const results = await opts.run();
    const at = Date.now();
    latest = { at, results };
    const before = await lastOf();
    const changed: HealthChange[] = [];
    const first = before.size === 0;
    for (const r of results) {
      const prev = before.get(r.id);
      const sig = signatureOf(r);
      if (prev?.signature === sig) continue;
      changed.push({ check: r, before: prev?.status ?? null });
    }
    if (changed.length)
      await db.write(async (tx) => {
        for (const c of changed)
          await tx.execute({
            sql: "INSERT INTO health_history (check_id, status, summary, signature, at) VALUES (?, ?, ?, ?, ?)",
            args: [c.check.id, c.check.status, c.check.summary, signatureOf(c.check), at],
          });
      });
    // The first run only records where things stand; later changes are news.
    const news = first ? [] : changed;
    if (news.length) await opts.alert(news).catch((e) => opts.log.warn("health alert not sent", { err: (e as Error).message }));
    return news;
  }

  return {
    /** Run the checks now (runs already in progress are joined). Resolves with the changes alerted. */
    run(): Promise<HealthChange[]> {
      running ??= runOnce().finally(() => (running = undefined));
      return running;
    },
    latest: () => latest,
    async history(limit = 200): Promise<HistoryRow[]> {
      const r = await db.query({ sql: "SELECT check_id, status, summary, at FROM health_history ORDER BY id DESC LIMIT ?", args: [limit] });
      return r.rows.map((x) => ({ checkId: String(x.check_id), status: String(x.status) as Status, summary: String(x.summary), at: Number(x.at) }));
    },
  };
}

export type Health = ReturnType<typeof createHealth>;

/** The alert message (RFC 5322), one per run that changed something. */
export function alertMessage(changes: HealthChange[], from: string, to: string[], hostname: string): string {
  const lines = changes.map((c) => `* ${c.check.title}: ${c.before ?? "new"} -> ${c.check.status}\r\n  ${c.check.summary}${c.check.fix ? `\r\n  What to do: ${c.check.fix}` : ""}`);
  const id = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@${hostname}`;
  return [
    `From: kotakpos <${from}>`,
    `To: ${to.join(", ")}`,
    `Subject: [kotakpos] ${changes.length} health check${changes.length === 1 ? "" : "s"} changed on ${hostname}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${id}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    `These checks changed since the last run on ${hostname}:`,
    "",
    ...lines,
    "",
    "The health page shows every check and its history.",
    "",
  ].join("\r\n");
}
