/** @jsxImportSource hono/jsx */
// More admin pages: aliases and groups (the aliases plugin's admin API), DKIM keys and
// their rotation (the mailauth plugin's admin API), and recent deliveries with reasons.
import type { Hono } from "hono";
import { acmeRenew, acmeStatus, AcmeTable } from "./acme-status.tsx";
import type { Activity } from "./activity.ts";
import { certificateInfo } from "./certificate.ts";
import type { AdminApi } from "./admin-api.ts";
import { param, type C, type ConsoleCtx, type Env } from "./context.ts";
import { adminFrame, asAdmin } from "./routes-login.tsx";
import { Csrf, Notice, when, type Viewer } from "./ui.tsx";

interface AliasRow {
  address: string;
  targets: string[];
  kind: "alias" | "group";
  membersOnly: boolean;
}
interface KeyInfo {
  selector: string;
  algorithm: string;
  state: string;
  createdAt: number;
}
type Flash = { kind: "ok" | "error"; text: string } | undefined;

export function moreAdminRoutes(app: Hono<Env>, ctx: ConsoleCtx, api: AdminApi, activity: Activity): void {
  const frame = adminFrame;
  // ---- TLS certificates: the one in use, and ACME's names (the acme plugin's API)
  async function tlsPage(c: C, v: Viewer, flash?: Flash) {
    const [cert, acme] = await Promise.all([certificateInfo(ctx.core), acmeStatus(api)]);
    return frame(
      c,
      v,
      "TLS",
      "/admin/tls",
      <>
        <h1>TLS certificates</h1>
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        <section class="card">
          <h2>In use for {ctx.core.config.hostname}</h2>
          {cert ? (
            <dl class="settings">
              <dt>Names</dt>
              <dd>{cert.names.join(", ") || cert.subject}</dd>
              <dt>Issuer</dt>
              <dd>{cert.selfSigned ? "self-signed" : cert.issuer}</dd>
              <dt>Expires</dt>
              <dd>{when(cert.notAfter)}</dd>
            </dl>
          ) : (
            <p class="muted">No certificate.</p>
          )}
        </section>
        <AcmeTable s={acme} csrf={c.get("csrf")} action="/admin/tls/renew" />
      </>,
    );
  }
  app.get("/admin/tls", asAdmin(ctx, (c, v) => tlsPage(c, v)));
  app.post("/admin/tls/renew", asAdmin(ctx, async (c, v) => {
    const err = await acmeRenew(api);
    return tlsPage(c, v, err ? { kind: "error", text: err } : { kind: "ok", text: "Ordered: the table shows the progress." });
  }));



  // ---- aliases and groups
  async function aliasesPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const r = await api<{ aliases: AliasRow[] }>("GET", "/aliases");
    const csrf = c.get("csrf");
    const list = r.status === 200 ? r.body.aliases : [];
    return frame(
      c,
      v,
      "Aliases",
      "/admin/aliases",
      <>
        <h1>Aliases and groups</h1>
        {r.status !== 200 && <Notice kind="error">The aliases plugin is not answering ({r.body.error ?? r.status}).</Notice>}
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        <section class="card">
          {list.length === 0 ? (
            <p class="muted">No aliases yet.</p>
          ) : (
            <div class="scroll">
              <table class="stack" id="aliases">
                <thead>
                  <tr>
                    <th>Address</th>
                    <th>Kind</th>
                    <th>Delivers to</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((a) => (
                    <tr>
                      <td data-k="Address">
                        <b>{a.address.startsWith("@") ? `anything${a.address} (catch-all)` : a.address}</b>
                      </td>
                      <td data-k="Kind">
                        {a.kind}
                        {a.membersOnly ? ", members only" : ""}
                      </td>
                      <td data-k="Delivers to" class="small">
                        {a.targets.join(", ")}
                      </td>
                      <td>
                        <form method="post" action={`/admin/aliases/${encodeURIComponent(a.address)}/delete`} class="inline" data-confirm={`Delete ${a.address}?`}>
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
        <section class="card">
          <h2>Add an alias or group</h2>
          <form method="post" action="/admin/aliases">
            <Csrf token={csrf} />
            <div class="row">
              <div>
                <label for="address">Address</label>
                <input id="address" name="address" type="text" placeholder="info@example.com or @example.com" required />
              </div>
              <div>
                <label for="targets">Delivers to (comma-separated)</label>
                <input id="targets" name="targets" type="text" placeholder="alice@example.com, bob@example.com" required />
              </div>
              <div>
                <label for="kind">Kind</label>
                <select id="kind" name="kind">
                  <option value="alias">alias</option>
                  <option value="group">group</option>
                </select>
              </div>
              <button type="submit">Add</button>
            </div>
          </form>
        </section>
      </>,
      status,
    );
  }
  app.get("/admin/aliases", asAdmin(ctx, (c, v) => aliasesPage(c, v)));
  app.post("/admin/aliases", asAdmin(ctx, async (c, v) => {
    const f = c.get("form");
    const targets = (f.targets ?? "").split(/[\s,]+/).filter(Boolean);
    const r = await api<{ alias: AliasRow }>("POST", "/aliases", { address: (f.address ?? "").trim(), targets, kind: f.kind === "group" ? "group" : "alias" });
    return r.status === 201 ? aliasesPage(c, v, { kind: "ok", text: `${r.body.alias.address} added.` }) : aliasesPage(c, v, { kind: "error", text: r.body.error ?? `refused (${r.status})` }, 400);
  }));
  app.post("/admin/aliases/:address/delete", asAdmin(ctx, async (c, v) => {
    const r = await api<{ deleted: boolean }>("DELETE", `/aliases/${encodeURIComponent(param(c, "address"))}`);
    return aliasesPage(c, v, r.status === 200 ? { kind: "ok", text: `${param(c, "address")} deleted.` } : { kind: "error", text: r.body.error ?? `refused (${r.status})` });
  }));

  // ---- DKIM keys of a domain (mailauth's admin API)
  async function dkimPage(c: C, v: Viewer, domain: string, flash?: Flash) {
    const r = await api<KeyInfo[]>("GET", `/domains/${encodeURIComponent(domain)}/dkim`);
    const csrf = c.get("csrf");
    const keys = r.status === 200 ? r.body : [];
    const step = (name: string, label: string, cls = "secondary") => (
      <form method="post" action={`/admin/domains/${encodeURIComponent(domain)}/dkim`} class="inline">
        <Csrf token={csrf} />
        <input type="hidden" name="step" value={name} />
        <button type="submit" class={`small ${cls}`}>{label}</button>
      </form>
    );
    return frame(
      c,
      v,
      `DKIM keys of ${domain}`,
      "/admin/domains",
      <>
        <h1>DKIM keys of {domain}</h1>
        {r.status !== 200 && <Notice kind="error">No DKIM keys: {r.body.error ?? r.status}</Notice>}
        {flash && <Notice kind={flash.kind}>{flash.text}</Notice>}
        <section class="card">
          <table class="stack" id="dkim-keys">
            <thead>
              <tr>
                <th>Selector</th>
                <th>Algorithm</th>
                <th>State</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr>
                  <td data-k="Selector" class="mono">
                    {k.selector}
                  </td>
                  <td data-k="Algorithm">{k.algorithm}</td>
                  <td data-k="State">
                    <span class={`pill ${k.state === "active" ? "pass" : k.state === "staged" ? "warn" : "unknown"}`}>{k.state}</span>
                  </td>
                  <td data-k="Created">{when(k.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Rotate</h3>
          <p class="small muted">1. Make new keys and publish their DNS records. 2. A day later, activate them (the old keys retire). 3. A few days later, prune the retired keys and their records.</p>
          <div class="actions">
            {step("stage", "1. Make new keys")}
            {step("activate", "2. Activate")}
            {step("prune", "3. Prune retired", "danger")}
            <a href={`/admin/domains/${encodeURIComponent(domain)}`}>DNS records</a>
          </div>
        </section>
      </>,
    );
  }
  app.get("/admin/domains/:name/dkim", asAdmin(ctx, (c, v) => dkimPage(c, v, param(c, "name").toLowerCase())));
  app.post("/admin/domains/:name/dkim", asAdmin(ctx, async (c, v) => {
    const domain = param(c, "name").toLowerCase();
    const step = c.get("form").step;
    const r = await api<KeyInfo[]>("POST", `/domains/${encodeURIComponent(domain)}/dkim/rotate`, { step });
    return dkimPage(c, v, domain, r.status === 200 ? { kind: "ok", text: step === "stage" ? "New keys made: publish their records (DNS records page), then activate." : step === "activate" ? "The new keys sign now; the old ones are retired." : "Retired keys removed." } : { kind: "error", text: r.body.error ?? `refused (${r.status})` });
  }));

  // ---- recent deliveries
  app.get("/admin/activity", asAdmin(ctx, async (c, v) => {
    const list = activity.recent();
    return frame(
      c,
      v,
      "Deliveries",
      "/admin/activity",
      <>
        <h1>Recent deliveries</h1>
        <p class="muted small">Outbound deliveries, retries and bounces since the server started, newest first, with the receiving server's answer.</p>
        <section class="card">
          {list.length === 0 ? (
            <p class="muted">Nothing delivered since the server started.</p>
          ) : (
            <div class="scroll">
              <table class="stack" id="activity">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Recipient</th>
                    <th>Result</th>
                    <th>Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((e) => (
                    <tr>
                      <td data-k="When">{when(e.at)}</td>
                      <td data-k="Recipient">{e.recipient}</td>
                      <td data-k="Result">
                        <span class={`pill ${e.kind === "delivered" ? "pass" : e.kind === "deferred" ? "warn" : "fail"}`}>{e.kind}</span>
                      </td>
                      <td data-k="Reason" class="small">
                        {e.detail}
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
  }));
}
