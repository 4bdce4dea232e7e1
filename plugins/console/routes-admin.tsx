/** @jsxImportSource hono/jsx */
// Admin pages (admin accounts only): dashboard, domains with their DNS records checked
// live, accounts (add, reset password, make admin), the outbound queue (retry, delete),
// and the health page (every check with its history, run now).
import type { Hono } from "hono";
import { isStoreError } from "../../core/store/errors.ts";
import { certificateInfo } from "./certificate.ts";
import { checkDnsRecords, overall } from "./checks.ts";
import { param, type C, type ConsoleCtx, type Env } from "./context.ts";
import { adminFrame, asAdmin } from "./routes-login.tsx";
import { CheckCard, Csrf, Notice, Pill, when, type Viewer } from "./ui.tsx";

type Flash = { kind: "ok" | "error"; text: string } | undefined;

export function adminPageRoutes(app: Hono<Env>, ctx: ConsoleCtx): void {
  const { core, security } = ctx;

  const frame = adminFrame;

  const certificate = () => certificateInfo(core);

  app.get("/admin", asAdmin(ctx, async (c, v) => {
    const [domains, accounts, queue, cert, history] = await Promise.all([core.store.listDomains(), core.store.listAccounts(), core.spool.list(), certificate(), ctx.health.history(8)]);
    const latest = ctx.health.latest();
    const day = Date.now() - 24 * 3600_000;
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
                <Pill status={overall(latest.results)} /> {latest.results.filter((r) => r.status === "pass").length} of {latest.results.length} checks pass ({when(latest.at)}). <a href="/admin/health">Details</a>
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
            {cert?.selfSigned && <p class="small muted">Mail apps will warn about a self-signed certificate until a real one is installed (tls.certFile, or ACME once the host name resolves here).</p>}
          </section>
        </div>
        <section class="card">
          <h2>Last delivery errors</h2>
          {queue.filter((q) => q.lastError).length ? (
            <div class="scroll">
              <table class="stack">
                <thead>
                  <tr>
                    <th>Recipient</th>
                    <th>Status</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {queue
                    .filter((q) => q.lastError)
                    .slice(0, 10)
                    .map((q) => (
                      <tr>
                        <td data-k="Recipient">{q.recipient}</td>
                        <td data-k="Status">{q.status}</td>
                        <td data-k="Error" class="small">
                          {q.lastError}
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="muted small">No errors.</p>
          )}
        </section>
      </>,
    );
  }));

  // ---- domains
  async function domainsPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const domains = await core.store.listDomains();
    const csrf = c.get("csrf");
    return frame(
      c,
      v,
      "Domains",
      "/admin/domains",
      <>
        <h1>Domains</h1>
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        <section class="card">
          <table class="stack">
            <thead>
              <tr>
                <th>Domain</th>
                <th>Added</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {domains.map((d) => (
                <tr>
                  <td data-k="Domain">
                    <b>{d.name}</b>
                  </td>
                  <td data-k="Added">{when(d.createdAt)}</td>
                  <td>
                    <a href={`/admin/domains/${encodeURIComponent(d.name)}`}>DNS records</a> · <a href={`/admin/domains/${encodeURIComponent(d.name)}/dkim`}>DKIM keys</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section class="card">
          <h2>Add a domain</h2>
          <form method="post" action="/admin/domains">
            <Csrf token={csrf} />
            <div class="row">
              <div>
                <label for="name">Domain name</label>
                <input id="name" name="name" type="text" placeholder="example.org" required />
              </div>
              <button type="submit">Add domain</button>
            </div>
          </form>
        </section>
      </>,
      status,
    );
  }
  app.get("/admin/domains", asAdmin(ctx, (c, v) => domainsPage(c, v)));
  app.post("/admin/domains", asAdmin(ctx, async (c, v) => {
    const name = (c.get("form").name ?? "").trim().toLowerCase().replace(/\.$/, "");
    if (!/^([\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}]{2,63}$/u.test(name)) return domainsPage(c, v, { kind: "error", text: "Give a domain name like example.org." }, 400);
    try {
      await core.store.addDomain(name);
    } catch (e) {
      if (isStoreError(e)) return domainsPage(c, v, { kind: "error", text: e.message }, 400);
      throw e;
    }
    return domainsPage(c, v, { kind: "ok", text: `${name} added. Publish its DNS records next.` });
  }));
  app.get("/admin/domains/:name", asAdmin(ctx, async (c, v) => {
    const name = param(c, "name").toLowerCase();
    if (!(await core.store.isLocalDomain(name))) return c.text("No such domain.", 404);
    const r = await checkDnsRecords(await ctx.checksEnv(), name);
    return frame(
      c,
      v,
      name,
      "/admin/domains",
      <>
        <h1>{name}</h1>
        <CheckCard r={r} copy />
        <div class="actions">
          <a class="button secondary" href={`/admin/domains/${encodeURIComponent(name)}`}>
            Re-check
          </a>
        </div>
      </>,
    );
  }));

  // ---- accounts
  async function accountsPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const [accounts, domains, admins] = await Promise.all([core.store.listAccounts(), core.store.listDomains(), security.admins()]);
    const csrf = c.get("csrf");
    return frame(
      c,
      v,
      "Accounts",
      "/admin/accounts",
      <>
        <h1>Accounts</h1>
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        <section class="card">
          <div class="scroll">
            <table class="stack" id="accounts">
              <thead>
                <tr>
                  <th>Address</th>
                  <th>Role</th>
                  <th>Created</th>
                  <th>Reset password</th>
                </tr>
              </thead>
              <tbody>
                {accounts.map((a) => (
                  <tr>
                    <td data-k="Address">
                      <b>{a.address}</b>
                      {a.disabled && <span class="pill fail">disabled</span>}
                    </td>
                    <td data-k="Role">
                      {admins.includes(a.id) ? <span class="pill pass">admin</span> : "user"}{" "}
                      {a.address !== v.address && (
                        <form method="post" action={`/admin/accounts/${encodeURIComponent(a.address)}/admin`} class="inline">
                          <Csrf token={csrf} />
                          <input type="hidden" name="admin" value={admins.includes(a.id) ? "0" : "1"} />
                          <button type="submit" class="small secondary">
                            {admins.includes(a.id) ? "Remove admin" : "Make admin"}
                          </button>
                        </form>
                      )}
                    </td>
                    <td data-k="Created">{when(a.createdAt)}</td>
                    <td>
                      <form method="post" action={`/admin/accounts/${encodeURIComponent(a.address)}/password`} class="row">
                        <Csrf token={csrf} />
                        <div>
                          <input name="password" type="password" placeholder="new password" autocomplete="new-password" aria-label={`New password for ${a.address}`} required />
                        </div>
                        <button type="submit" class="small secondary">
                          Set
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <section class="card">
          <h2>Add an account</h2>
          <form method="post" action="/admin/accounts">
            <Csrf token={csrf} />
            <div class="row">
              <div>
                <label for="local">Mailbox</label>
                <input id="local" name="local" type="text" placeholder="name" required />
              </div>
              <div>
                <label for="domain">Domain</label>
                <select id="domain" name="domain">
                  {domains.map((d) => (
                    <option value={d.name}>@{d.name}</option>
                  ))}
                </select>
              </div>
              <div>
                <label for="password">Password</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required />
              </div>
              <button type="submit">Add account</button>
            </div>
          </form>
        </section>
      </>,
      status,
    );
  }
  app.get("/admin/accounts", asAdmin(ctx, (c, v) => accountsPage(c, v)));
  app.post("/admin/accounts", asAdmin(ctx, async (c, v) => {
    const f = c.get("form");
    const local = (f.local ?? "").trim().toLowerCase();
    const address = `${local}@${(f.domain ?? "").trim().toLowerCase()}`;
    if (!/^[a-z0-9._+-]{1,64}$/.test(local)) return accountsPage(c, v, { kind: "error", text: "The mailbox name may use letters, digits and . _ + -" }, 400);
    if ((f.password ?? "").length < 10) return accountsPage(c, v, { kind: "error", text: "Choose a password of at least 10 characters." }, 400);
    try {
      await core.store.createAccount(address, f.password!);
    } catch (e) {
      if (isStoreError(e)) return accountsPage(c, v, { kind: "error", text: e.message }, 400);
      throw e;
    }
    return accountsPage(c, v, { kind: "ok", text: `${address} created.` });
  }));
  app.post("/admin/accounts/:address/password", asAdmin(ctx, async (c, v) => {
    const pw = c.get("form").password ?? "";
    if (pw.length < 10) return accountsPage(c, v, { kind: "error", text: "Choose a password of at least 10 characters." }, 400);
    const ok = await core.store.setPassword(param(c, "address"), pw);
    return accountsPage(c, v, ok ? { kind: "ok", text: `Password of ${param(c, "address")} changed.` } : { kind: "error", text: "No such account." });
  }));
  app.post("/admin/accounts/:address/admin", asAdmin(ctx, async (c, v) => {
    const a = await core.store.getAccount(param(c, "address"));
    if (!a) return accountsPage(c, v, { kind: "error", text: "No such account." }, 400);
    await security.setAdmin(a.id, c.get("form").admin === "1");
    return accountsPage(c, v, { kind: "ok", text: `${a.address} is ${c.get("form").admin === "1" ? "now an admin" : "no longer an admin"}.` });
  }));

  // ---- queue
  async function queuePage(c: C, v: Viewer, flash?: Flash) {
    const queue = await core.spool.list();
    const csrf = c.get("csrf");
    return frame(
      c,
      v,
      "Queue",
      "/admin/queue",
      <>
        <h1>Outbound queue</h1>
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        <section class="card">
          {queue.length === 0 ? (
            <p class="muted">The queue is empty: every message went out.</p>
          ) : (
            <div class="scroll">
              <table class="stack">
                <thead>
                  <tr>
                    <th>Message</th>
                    <th>Recipient</th>
                    <th>Status</th>
                    <th>Next try</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {queue.map((q) => (
                    <tr>
                      <td data-k="Message" class="mono">
                        {q.id}
                        <div class="muted small">from {q.mailFrom || "<>"}</div>
                      </td>
                      <td data-k="Recipient">{q.recipient}</td>
                      <td data-k="Status">
                        {q.status} ({q.attempts} tries){q.lastError && <div class="muted small">{q.lastError}</div>}
                      </td>
                      <td data-k="Next try">{when(q.nextAttempt)}</td>
                      <td>
                        <form method="post" action={`/admin/queue/${encodeURIComponent(q.id)}/retry`} class="inline">
                          <Csrf token={csrf} />
                          <button type="submit" class="small secondary">Retry now</button>
                        </form>{" "}
                        <form method="post" action={`/admin/queue/${encodeURIComponent(q.id)}/delete`} class="inline" data-confirm="Delete this message from the queue?">
                          <Csrf token={csrf} />
                          <button type="submit" class="small danger">Delete</button>
                        </form>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </>,
    );
  }
  app.get("/admin/queue", asAdmin(ctx, (c, v) => queuePage(c, v)));
  app.post("/admin/queue/:id/retry", asAdmin(ctx, async (c, v) => {
    const n = await core.spool.retry(param(c, "id"));
    return queuePage(c, v, { kind: "ok", text: `${n} recipient(s) will be retried now.` });
  }));
  app.post("/admin/queue/:id/delete", asAdmin(ctx, async (c, v) => {
    const n = await core.spool.delete(param(c, "id"));
    return queuePage(c, v, n ? { kind: "ok", text: "Deleted from the queue." } : { kind: "error", text: "No such message in the queue." });
  }));

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
  app.get("/admin/health", asAdmin(ctx, async (c, v) => {
    if (!ctx.health.latest()) await ctx.health.run();
    return healthPage(c, v);
  }));
  app.post("/admin/health", asAdmin(ctx, async (c, v) => {
    await ctx.health.run();
    return healthPage(c, v);
  }));
}
