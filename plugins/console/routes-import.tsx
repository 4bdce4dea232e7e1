/** @jsxImportSource hono/jsx */
// "Import from another server" for the user's own account (issue 21): the migrate
// plugin's job, started and followed through its admin methods (migrate.start / status /
// cancel, over the admin API in process: the console imports no plugin). The page shows
// the progress live (console.js polls /account/import/status); a job whose page stops
// polling for 15 s stops, and running it again continues where it stopped.
import type { Hono } from "hono";
import type { AdminApi } from "./admin-api.ts";
import type { C, ConsoleCtx, Env } from "./context.ts";
import { toLogin, viewerOf } from "./routes-login.tsx";
import { size } from "./routes-admin-accounts.tsx";
import { Csrf, Notice, Page, Table } from "./ui.tsx";

/** What migrate.status answers (plugins/migrate/control.ts JobStatus, as JSON). */
interface Counts {
  found: number;
  imported: number;
  skipped: number;
  existing: number;
  bytes: number;
}
interface JobStatus {
  counts: Counts;
  totals: { messages?: number; bytes?: number };
  done: boolean;
  error?: string;
  report?: Counts & { skippedList: { where: string; reason: string }[]; notes: string[]; folders: number; seconds: number };
}

/** The figures the page shows, as text (the same for the first render and each poll). */
export function progressFields(s: JobStatus, seconds: number): { fraction: number | null; fields: Record<string, string> } {
  const c = s.counts;
  const rate = seconds > 0 ? c.found / seconds : 0;
  const left = s.totals.messages ? Math.max(0, s.totals.messages - c.found) : null;
  const eta = left !== null && rate > 0 ? Math.ceil(left / rate) : null;
  const fraction = s.done ? 1 : s.totals.messages ? Math.min(1, c.found / s.totals.messages) : s.totals.bytes ? Math.min(1, c.bytes / s.totals.bytes) : null;
  return {
    fraction,
    fields: {
      found: s.totals.messages ? `${c.found} of ${s.totals.messages}` : String(c.found),
      imported: String(c.imported),
      existing: String(c.existing),
      skipped: String(c.skipped),
      data: size(c.bytes),
      rate: `${rate.toFixed(rate < 10 ? 1 : 0)} messages/s`,
      eta: s.done ? "done" : eta === null ? "—" : eta < 60 ? `${eta} s` : `${Math.floor(eta / 60)} min ${eta % 60} s`,
      state: s.error ? `Stopped: ${s.error}` : s.done ? "Finished." : "Copying…",
    },
  };
}

const FIELDS: [string, string][] = [
  ["found", "Messages found"],
  ["imported", "Copied"],
  ["existing", "Already here"],
  ["skipped", "Skipped"],
  ["data", "Data"],
  ["rate", "Speed"],
  ["eta", "Time left"],
];

/** "imaps://user@host:port" from the form; an error message for a bad field. */
export function sourceUrl(f: Record<string, string>): { url: string } | { error: string } {
  const host = (f.host ?? "").trim().toLowerCase();
  const user = (f.username ?? "").trim();
  const port = (f.port ?? "").trim();
  if (!/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\d{1,3}(\.\d{1,3}){3}$|^\[[0-9a-f:]+\]$/.test(host)) return { error: "Give the old server's IMAP host name, like imap.example.com." };
  if (!user) return { error: "Give your user name on the old server (often your full email address)." };
  if (port && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return { error: "The port is a number (993 for TLS, 143 for STARTTLS)." };
  if (!f.password) return { error: "Give your password on the old server (or an app password made there)." };
  const scheme = f.security === "starttls" ? "imap" : "imaps";
  return { url: `${scheme}://${encodeURIComponent(user)}@${host}${port ? `:${port}` : ""}` };
}

export function importRoutes(app: Hono<Env>, ctx: ConsoleCtx): void {
  const api = (): AdminApi => ctx.api!;
  /** Jobs this console started, with their account and start time: a user sees only their own. */
  const jobs = new Map<string, { accountId: number; started: number; source: string }>();

  const call = async <T,>(method: string, ...args: unknown[]): Promise<{ result: T } | { error: string }> => {
    const r = await api()<{ result: T }>("POST", `/methods/migrate.${method}`, { args });
    return r.status === 200 ? { result: r.body.result } : { error: r.body.error ?? `the import is not available (${r.status})` };
  };

  async function page(c: C, opts: { error?: string; form?: Record<string, string>; status?: 200 | 400 } = {}) {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const csrf = c.get("csrf");
    const id = c.req.query("job") ?? "";
    const job = jobs.get(id);
    const mine = job && job.accountId === v.user.accountId;
    const st = mine ? await call<JobStatus>("status", id) : null;
    const s = st && "result" in st ? st.result : null;
    const shown = s ? progressFields(s, (Date.now() - job!.started) / 1000) : null;
    const f = opts.form ?? {};
    return c.html(
      <Page title="Import mail" viewer={v} csrf={csrf} path="/account">
        <p class="small">
          <a href="/account">← My account</a>
        </p>
        <h1>Import from another server</h1>
        {opts.error && <Notice kind="error">{opts.error}</Notice>}
        {id && !s && <Notice kind="error">{st && "error" in st ? st.error : "That import is over or not yours."} Start it again below: it continues where it stopped.</Notice>}
        {s && shown && (
          <section class="card" id="import-progress" data-poll={s.done ? undefined : `/account/import/status?job=${encodeURIComponent(id)}`}>
            <h2>From {job!.source}</h2>
            <progress id="import-bar" max="1" value={shown.fraction === null ? undefined : String(shown.fraction)}></progress>
            <p>
              <b data-field="state">{shown.fields.state}</b>
            </p>
            <dl class="settings">
              {FIELDS.map(([k, label]) => (
                <>
                  <dt>{label}</dt>
                  <dd data-field={k}>{shown.fields[k]}</dd>
                </>
              ))}
            </dl>
            {!s.done && (
              <>
                <p class="small muted">Keep this page open: closing it stops the import after 15 seconds. Starting it again later copies only what is still missing.</p>
                <noscript>
                  <p>
                    <a href={`/account/import?job=${encodeURIComponent(id)}`}>Refresh</a>
                  </p>
                </noscript>
                <form method="post" action={`/account/import/cancel?job=${encodeURIComponent(id)}`} data-confirm="Stop the import? What was copied stays.">
                  <Csrf token={csrf} />
                  <button type="submit" class="danger">
                    Stop
                  </button>
                </form>
              </>
            )}
            {s.done && s.report && (
              <div id="import-report">
                <Notice kind={s.report.skipped ? "info" : "ok"}>
                  Found {s.report.found} = copied {s.report.imported} + skipped {s.report.skipped} + already here {s.report.existing}, {size(s.report.bytes)} in {s.report.seconds.toFixed(1)} s,{" "}
                  {s.report.folders} folder(s).
                </Notice>
                <Table
                  rows={s.report.skippedList}
                  cols={[
                    { label: "Skipped", cell: (x) => x.where },
                    { label: "Why", cell: (x) => x.reason },
                  ]}
                />
                {s.report.notes.map((n) => (
                  <p class="small muted">{n}</p>
                ))}
                <div class="actions">
                  <a class="button" href="/mail/">
                    Open the mail
                  </a>
                  <a class="button secondary" href="/account/import">
                    Import again
                  </a>
                </div>
              </div>
            )}
          </section>
        )}
        {(!s || s.done) && (
          <section class="card">
            <h2>Your old account</h2>
            <p class="small muted">
              Every folder comes along with its messages, flags and dates; run it again at the switch and only new mail is copied. Into <b>{v.address}</b>.
            </p>
            <form method="post" action="/account/import">
              <Csrf token={csrf} />
              <div class="row">
                <div>
                  <label for="host">IMAP server</label>
                  <input id="host" name="host" type="text" placeholder="imap.example.com" value={f.host ?? ""} required />
                </div>
                <div>
                  <label for="security">Security</label>
                  <select id="security" name="security">
                    <option value="tls" selected={f.security !== "starttls"}>
                      TLS (port 993)
                    </option>
                    <option value="starttls" selected={f.security === "starttls"}>
                      STARTTLS (port 143)
                    </option>
                  </select>
                </div>
                <div>
                  <label for="port">Port (if not standard)</label>
                  <input id="port" name="port" type="text" inputmode="numeric" placeholder="993" value={f.port ?? ""} />
                </div>
              </div>
              <div class="row">
                <div>
                  <label for="username">User name there</label>
                  <input id="username" name="username" type="text" autocomplete="off" placeholder={v.address} value={f.username ?? ""} required />
                </div>
                <div>
                  <label for="oldpw">Password there</label>
                  <input id="oldpw" name="password" type="password" autocomplete="off" required />
                </div>
              </div>
              <label class="checkbox">
                <input type="checkbox" name="insecure" value="1" checked={f.insecure === "1"} /> Accept a certificate that does not verify (a self-signed old server)
              </label>
              <div class="actions">
                <button type="submit">Start the import</button>
              </div>
            </form>
          </section>
        )}
      </Page>,
      opts.status ?? 200,
    );
  }

  app.get("/account/import", (c) => page(c));
  app.post("/account/import", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const f = c.get("form");
    const src = sourceUrl(f);
    if ("error" in src) return page(c, { error: src.error, form: f, status: 400 });
    const r = await call<string>("start", { kind: "migrate", address: v.address, url: src.url, password: f.password, insecure: f.insecure === "1" });
    if ("error" in r) return page(c, { error: r.error, form: f, status: 400 });
    for (const [k, j] of jobs) if (Date.now() - j.started > 86_400_000) jobs.delete(k);
    jobs.set(r.result, { accountId: v.user.accountId, started: Date.now(), source: `${f.username} at ${(f.host ?? "").trim().toLowerCase()}` });
    return c.redirect(`/account/import?job=${encodeURIComponent(r.result)}`, 303);
  });
  app.get("/account/import/status", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return c.json({ error: "not logged in" }, 401);
    const id = c.req.query("job") ?? "";
    const job = jobs.get(id);
    if (!job || job.accountId !== v.user.accountId) return c.json({ error: "no such import" }, 404);
    const st = await call<JobStatus>("status", id);
    if ("error" in st) return c.json({ error: st.error }, 404);
    return c.json({ done: st.result.done, ...progressFields(st.result, (Date.now() - job.started) / 1000) });
  });
  app.post("/account/import/cancel", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const id = c.req.query("job") ?? "";
    if (jobs.get(id)?.accountId === v.user.accountId) await call("cancel", id);
    return c.redirect(`/account/import?job=${encodeURIComponent(id)}`, 303);
  });
}
