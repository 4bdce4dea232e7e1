/** @jsxImportSource hono/jsx */
// More admin pages: TLS certificates (the acme plugin's API), aliases and groups (the
// aliases plugin's admin API), DKIM keys and their rotation (the mailauth plugin's).
import type { Hono } from "hono";
import { acmeRenew, acmeStatus, AcmeTable } from "./acme-status.tsx";
import { certificateInfo } from "./certificate.ts";
import type { AdminApi, ApiAnswer } from "./admin-api.ts";
import { param, type C, type ConsoleCtx, type Env } from "./context.ts";
import { adminFrame, adminPost, asAdmin } from "./routes-login.tsx";
import { Field, FlashNotice, Notice, PostButton, RowForm, Table, when, type Flash, type Viewer } from "./ui.tsx";

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

/** An API answer that is not a success, as the page's error message. */
const refused = (r: ApiAnswer<unknown>): Flash => ({ kind: "error", text: r.body.error ?? `refused (${r.status})` });

export function moreAdminRoutes(app: Hono<Env>, ctx: ConsoleCtx, api: AdminApi): void {
  const frame = adminFrame;
  // ---- TLS certificates: the one in use, and ACME's names (the acme plugin's API)
  async function tlsPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const [cert, acme] = await Promise.all([certificateInfo(ctx.core), acmeStatus(api)]);
    return frame(
      c,
      v,
      "TLS",
      "/admin/tls",
      <>
        <h1>TLS certificates</h1>
        <FlashNotice flash={flash} />
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
      status,
    );
  }
  app.get(
    "/admin/tls",
    asAdmin(ctx, (c, v) => tlsPage(c, v)),
  );
  adminPost(app, ctx, "/admin/tls/renew", tlsPage, async () => {
    const err = await acmeRenew(api);
    return err ? { kind: "error", text: err } : { kind: "ok", text: "Ordered: the table shows the progress." };
  });

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
        <FlashNotice flash={flash} />
        <section class="card">
          <Table
            id="aliases"
            rows={list}
            empty="No aliases yet."
            cols={[
              { label: "Address", cell: (a) => <b>{a.address.startsWith("@") ? `anything${a.address} (catch-all)` : a.address}</b> },
              { label: "Kind", cell: (a) => `${a.kind}${a.membersOnly ? ", members only" : ""}` },
              { label: "Delivers to", cell: (a) => a.targets.join(", "), class: "small" },
              { label: "", cell: (a) => <PostButton action={`/admin/aliases/${encodeURIComponent(a.address)}/delete`} csrf={csrf} label="Delete" kind="danger" confirm={`Delete ${a.address}?`} /> },
            ]}
          />
        </section>
        <RowForm title="Add an alias or group" action="/admin/aliases" csrf={csrf} submit="Add">
          <Field id="address" label="Address" placeholder="info@example.com or @example.com" required />
          <Field id="targets" label="Delivers to (comma-separated)" placeholder="alice@example.com, bob@example.com" required />
          <div>
            <label for="kind">Kind</label>
            <select id="kind" name="kind">
              <option value="alias">alias</option>
              <option value="group">group</option>
            </select>
          </div>
        </RowForm>
      </>,
      status,
    );
  }
  app.get(
    "/admin/aliases",
    asAdmin(ctx, (c, v) => aliasesPage(c, v)),
  );
  adminPost(app, ctx, "/admin/aliases", aliasesPage, async (f) => {
    const targets = (f.targets ?? "").split(/[\s,]+/).filter(Boolean);
    const r = await api<{ alias: AliasRow }>("POST", "/aliases", { address: (f.address ?? "").trim(), targets, kind: f.kind === "group" ? "group" : "alias" });
    return r.status === 201 ? { kind: "ok", text: `${r.body.alias.address} added.` } : refused(r);
  });
  adminPost(app, ctx, "/admin/aliases/:address/delete", aliasesPage, async (_f, c) => {
    const r = await api<{ deleted: boolean }>("DELETE", `/aliases/${encodeURIComponent(param(c, "address"))}`);
    return r.status === 200 ? { kind: "ok", text: `${param(c, "address")} deleted.` } : refused(r);
  });

  // ---- DKIM keys of a domain (mailauth's admin API)
  async function dkimPage(c: C, v: Viewer, domain: string, flash?: Flash, status: 200 | 400 = 200) {
    const r = await api<KeyInfo[]>("GET", `/domains/${encodeURIComponent(domain)}/dkim`);
    const csrf = c.get("csrf");
    const keys = r.status === 200 ? r.body : [];
    const step = (name: string, label: string, kind: "secondary" | "danger" = "secondary") => (
      <PostButton action={`/admin/domains/${encodeURIComponent(domain)}/dkim`} csrf={csrf} label={label} kind={kind} fields={{ step: name }} />
    );
    return frame(
      c,
      v,
      `DKIM keys of ${domain}`,
      "/admin/domains",
      <>
        <h1>DKIM keys of {domain}</h1>
        {r.status !== 200 && <Notice kind="error">No DKIM keys: {r.body.error ?? r.status}</Notice>}
        <FlashNotice flash={flash} />
        <section class="card">
          <Table
            id="dkim-keys"
            rows={keys}
            cols={[
              { label: "Selector", cell: (k) => k.selector, class: "mono" },
              { label: "Algorithm", cell: (k) => k.algorithm },
              { label: "State", cell: (k) => <span class={`pill ${k.state === "active" ? "pass" : k.state === "staged" ? "warn" : "unknown"}`}>{k.state}</span> },
              { label: "Created", cell: (k) => when(k.createdAt) },
            ]}
          />
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
      status,
    );
  }
  app.get(
    "/admin/domains/:name/dkim",
    asAdmin(ctx, (c, v) => dkimPage(c, v, param(c, "name").toLowerCase())),
  );
  adminPost(
    app,
    ctx,
    "/admin/domains/:name/dkim",
    (c, v, flash, status) => dkimPage(c, v, param(c, "name").toLowerCase(), flash, status),
    async (f, c) => {
      const step = f.step;
      const r = await api<KeyInfo[]>("POST", `/domains/${encodeURIComponent(param(c, "name").toLowerCase())}/dkim/rotate`, { step });
      return r.status === 200
        ? {
            kind: "ok",
            text:
              step === "stage"
                ? "New keys made: publish their records (DNS records page), then activate."
                : step === "activate"
                  ? "The new keys sign now; the old ones are retired."
                  : "Retired keys removed.",
          }
        : refused(r);
    },
  );
}
