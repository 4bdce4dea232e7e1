/** @jsxImportSource hono/jsx */
// Admin pages (admin accounts only): the dashboard and the health page (every check with
// its history, run now). Domains and accounts: routes-admin-accounts.tsx; the queue and
// activity: routes-admin-queue.tsx; aliases, DKIM, TLS: routes-admin-more.tsx.
import type { Hono } from "hono";
import { certificateInfo } from "./certificate.ts";
import { overall } from "./checks.ts";
import type { C, ConsoleCtx, Env } from "./context.ts";
import type { Activity } from "./activity.ts";
import { adminFrame, asAdmin } from "./routes-login.tsx";
import { CheckCard, Csrf, Notice, Pill, Table, tries, when, type Viewer } from "./ui.tsx";

export function adminPageRoutes(app: Hono<Env>, ctx: ConsoleCtx, activity: Activity): void {
  const { core } = ctx;

  const frame = adminFrame;

  const certificate = () => certificateInfo(core);

  app.get(
    "/admin",
    asAdmin(ctx, async (c, v) => {
      const [domains, accounts, queue, cert, history] = await Promise.all([core.store.listDomains(), core.store.listAccounts(), core.spool.list(), certificate(), ctx.health.history(8)]);
      const latest = ctx.health.latest();
      const day = Date.now() - 24 * 3600_000;
      const today = activity.today();
      const startOfDay = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      const pending = queue.filter((q) => q.status !== "delivered" && q.status !== "failed");
      const daysLeft = cert ? Math.floor((cert.notAfter - Date.now()) / 86400_000) : null;
      return frame(
        c,
        v,
        "Dashboard",
        "/admin",
        <>
          {c.req.query("setup") === "done" && <Notice kind="ok">Setup is finished. Welcome to kotakpos.</Notice>}
          <h1>Dashboard</h1>
          <div class="stats">
            <div class="stat">
              <b id="received-today">{today.received}</b>
              <span>received today{today.since > startOfDay ? ` (since ${when(today.since).slice(11)})` : ""}</span>
            </div>
            <div class="stat">
              <b id="sent-today">{today.sent}</b>
              <span>sent today</span>
            </div>
            <div class="stat">
              <b>{domains.length}</b>
              <span>domains</span>
            </div>
            <div class="stat">
              <b>{accounts.length}</b>
              <span>accounts</span>
            </div>
            <div class="stat">
              <b id="queue-size">{pending.length}</b>
              <span>in the outbound queue ({queue.filter((q) => q.createdAt > day).length} today)</span>
            </div>
            <div class="stat">
              <b>{daysLeft ?? "—"}</b>
              <span>days of certificate left</span>
            </div>
          </div>
          <div class="grid two">
            <section class="card">
              <h2>Health</h2>
              {latest ? (
                <p>
                  <Pill status={overall(latest.results)} /> {latest.results.filter((r) => r.status === "pass").length} of {latest.results.length} checks pass ({when(latest.at)}).{" "}
                  <a href="/admin/health">Details</a>
                </p>
              ) : (
                <p class="muted">
                  The checks have not run yet. <a href="/admin/health">Run them</a>
                </p>
              )}
              <h3>Recent changes</h3>
              {history.length ? (
                <ul class="history">
                  {history.map((h) => (
                    <li>
                      <Pill status={h.status} /> {h.checkId}: {h.summary} <span class="muted">({when(h.at)})</span>
                    </li>
                  ))}
                </ul>
              ) : (
                <p class="muted small">None yet.</p>
              )}
            </section>
            <section class="card">
              <h2>TLS certificate</h2>
              {cert ? (
                <dl class="settings">
                  <dt>For</dt>
                  <dd>{cert.subject}</dd>
                  <dt>Issuer</dt>
                  <dd>{cert.selfSigned ? "self-signed" : cert.issuer}</dd>
                  <dt>Expires</dt>
                  <dd>{when(cert.notAfter)}</dd>
                </dl>
              ) : (
                <p class="muted">No certificate found.</p>
              )}
              {cert?.selfSigned && (
                <p class="small muted">Mail apps will warn about a self-signed certificate until a real one is installed (tls.certFile, or ACME once the host name resolves here).</p>
              )}
            </section>
          </div>
          <section class="card">
            <h2>Last delivery errors</h2>
            <Table
              id="last-errors"
              rows={queue.filter((q) => q.lastError).slice(0, 10)}
              empty="No errors."
              cols={[
                { label: "Recipient", cell: (q) => <a href={`/admin/queue/${encodeURIComponent(q.id)}`}>{q.recipient}</a> },
                { label: "Status", cell: (q) => `${q.status} (${tries(q.attempts)})` },
                { label: "Error", cell: (q) => q.lastError, class: "small" },
              ]}
            />
          </section>
        </>,
      );
    }),
  );

  // ---- health
  async function healthPage(c: C, v: Viewer) {
    const latest = ctx.health.latest();
    const history = await ctx.health.history();
    const csrf = c.get("csrf");
    return frame(
      c,
      v,
      "Health",
      "/admin/health",
      <>
        <h1>Health</h1>
        <p class="muted">The checks run at start and every {ctx.cfg.healthInterval}; a change mails the admins.</p>
        <form method="post" action="/admin/health" class="actions">
          <Csrf token={csrf} />
          <button type="submit">Run the checks now</button>
          {latest && <span class="muted small">last run {when(latest.at)}</span>}
        </form>
        <br />
        {latest?.results.map((r) => {
          const h = history.filter((x) => x.checkId === r.id).slice(0, 5);
          return (
            <>
              <CheckCard r={r} />
              {h.length > 1 && (
                <details class="card small">
                  <summary>History of {r.title}</summary>
                  <ul class="history">
                    {h.map((x) => (
                      <li>
                        <Pill status={x.status} /> {x.summary} <span class="muted">({when(x.at)})</span>
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </>
          );
        })}
      </>,
    );
  }
  app.get(
    "/admin/health",
    asAdmin(ctx, async (c, v) => {
      if (!ctx.health.latest()) await ctx.health.run();
      return healthPage(c, v);
    }),
  );
  app.post(
    "/admin/health",
    asAdmin(ctx, async (c, v) => {
      await ctx.health.run();
      return healthPage(c, v);
    }),
  );
}
