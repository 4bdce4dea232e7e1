/** @jsxImportSource hono/jsx */
// Admin pages for domains (add, delete when no account is left, DNS records) and accounts
// (add; per account: disable/enable, quota, reset password, make admin).
import type { Hono } from "hono";
import type { Account, Quota } from "../../core/store/types.ts";
import { checkDnsRecords } from "./checks.ts";
import { param, type C, type ConsoleCtx, type Env } from "./context.ts";
import { adminFrame, adminPost, asAdmin } from "./routes-login.tsx";
import { CheckCard, Csrf, Field, FlashNotice, PostButton, RowForm, Table, when, type Flash, type Viewer } from "./ui.tsx";

const DOMAIN = /^([\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}]{2,63}$/u;
const enc = encodeURIComponent;

/** "1.2 MB", "512 KB": the usage shown beside a limit. */
export function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1).replace(/\.0$/, "")} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2).replace(/\.?0+$/, "")} GB`;
}

/** Storage use against the limit, e.g. "3 MB of 500 MB" or "3 MB (no limit)". */
export function usage(q: Quota): string {
  const storage = q.storageKib === null ? `${size(q.usedBytes)} (no limit)` : `${size(q.usedBytes)} of ${size(q.storageKib * 1024)}`;
  return q.messages === null ? storage : `${storage}, ${q.usedMessages} of ${q.messages} messages`;
}

/** A limit typed in a form: empty = none; else a whole number ≥ 1. */
function limit(raw: string | undefined, what: string): number | null {
  const t = (raw ?? "").trim();
  if (t === "") return null;
  if (!/^\d{1,9}$/.test(t) || Number(t) < 1) throw new RangeError(`The ${what} limit is a whole number (or empty for no limit).`);
  return Number(t);
}

export function accountAdminRoutes(app: Hono<Env>, ctx: ConsoleCtx): void {
  const { core, security } = ctx;

  // ---- domains
  async function domainsPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const [domains, accounts] = await Promise.all([core.store.listDomains(), core.store.listAccounts()]);
    const count = (d: string) => accounts.filter((a) => a.address.endsWith(`@${d}`)).length;
    const csrf = c.get("csrf");
    return adminFrame(
      c,
      v,
      "Domains",
      "/admin/domains",
      <>
        <h1>Domains</h1>
        <FlashNotice flash={flash} />
        <section class="card">
          <Table
            id="domains"
            rows={domains}
            empty="No domain yet: add one below."
            cols={[
              { label: "Domain", cell: (d) => <b>{d.name}</b> },
              { label: "Accounts", cell: (d) => count(d.name) },
              { label: "Added", cell: (d) => when(d.createdAt) },
              {
                label: "",
                cell: (d) => (
                  <>
                    <a href={`/admin/domains/${enc(d.name)}`}>DNS records</a> · <a href={`/admin/domains/${enc(d.name)}/dkim`}>DKIM keys</a>{" "}
                    {count(d.name) === 0 ? (
                      <PostButton
                        action={`/admin/domains/${enc(d.name)}/delete`}
                        csrf={csrf}
                        label="Delete"
                        kind="danger"
                        confirm={`Delete the domain ${d.name}? Mail to it will be refused from then on.`}
                      />
                    ) : (
                      <span class="muted small" title="Delete or move its accounts first">
                        · in use
                      </span>
                    )}
                  </>
                ),
              },
            ]}
          />
        </section>
        <RowForm title="Add a domain" action="/admin/domains" csrf={csrf} submit="Add domain">
          <Field id="name" label="Domain name" placeholder="example.org" required />
        </RowForm>
      </>,
      status,
    );
  }
  app.get(
    "/admin/domains",
    asAdmin(ctx, (c, v) => domainsPage(c, v)),
  );
  adminPost(app, ctx, "/admin/domains", domainsPage, async (f) => {
    const name = (f.name ?? "").trim().toLowerCase().replace(/\.$/, "");
    if (!DOMAIN.test(name)) return { kind: "error", text: "Give a domain name like example.org." };
    if (await core.store.isLocalDomain(name)) return { kind: "error", text: `${name} is already here.` };
    await core.store.addDomain(name);
    return { kind: "ok", text: `${name} added. Publish its DNS records next.` };
  });
  adminPost(app, ctx, "/admin/domains/:name/delete", domainsPage, async (_f, c) => {
    const name = param(c, "name").toLowerCase();
    const left = await core.store.listAccounts(name).catch(() => []);
    if (left.length) return { kind: "error", text: `${name} still has ${left.length} account(s): delete them first. The domain stays.` };
    return (await core.store.deleteDomain(name)) ? { kind: "ok", text: `${name} deleted: mail to it is refused from now on.` } : { kind: "error", text: `No domain ${name}.` };
  });
  app.get(
    "/admin/domains/:name",
    asAdmin(ctx, async (c, v) => {
      const name = param(c, "name").toLowerCase();
      if (!(await core.store.isLocalDomain(name))) return c.text("No such domain.", 404);
      const r = await checkDnsRecords(await ctx.checksEnv(), name);
      return adminFrame(
        c,
        v,
        name,
        "/admin/domains",
        <>
          <h1>{name}</h1>
          <CheckCard r={r} copy />
          <div class="actions">
            <a class="button secondary" href={`/admin/domains/${enc(name)}`}>
              Re-check
            </a>
          </div>
        </>,
      );
    }),
  );

  // ---- accounts
  async function accountsPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const [accounts, domains, admins] = await Promise.all([core.store.listAccounts(), core.store.listDomains(), security.admins()]);
    const quotas = new Map(await Promise.all(accounts.map(async (a) => [a.id, await core.store.getQuota(a.id)] as const)));
    const csrf = c.get("csrf");
    return adminFrame(
      c,
      v,
      "Accounts",
      "/admin/accounts",
      <>
        <h1>Accounts</h1>
        <FlashNotice flash={flash} />
        <section class="card">
          <Table
            id="accounts"
            rows={accounts}
            empty="No accounts yet."
            cols={[
              {
                label: "Address",
                cell: (a) => (
                  <>
                    <b>{a.address}</b> {a.disabled && <span class="pill fail">disabled</span>}
                  </>
                ),
              },
              { label: "Role", cell: (a) => (admins.includes(a.id) ? <span class="pill pass">admin</span> : "user") },
              { label: "Storage", cell: (a) => <span class="small">{usage(quotas.get(a.id)!)}</span> },
              { label: "Created", cell: (a) => when(a.createdAt) },
              {
                label: "",
                cell: (a) => (
                  <a class="button small secondary" href={`/admin/accounts/${enc(a.address)}`}>
                    Manage
                  </a>
                ),
              },
            ]}
          />
        </section>
        <RowForm title="Add an account" action="/admin/accounts" csrf={csrf} submit="Add account">
          <Field id="local" label="Mailbox" placeholder="name" required />
          <div>
            <label for="domain">Domain</label>
            <select id="domain" name="domain">
              {domains.map((d) => (
                <option value={d.name}>@{d.name}</option>
              ))}
            </select>
          </div>
          <Field id="password" label="Password" type="password" autocomplete="new-password" required />
        </RowForm>
      </>,
      status,
    );
  }
  app.get(
    "/admin/accounts",
    asAdmin(ctx, (c, v) => accountsPage(c, v)),
  );
  adminPost(app, ctx, "/admin/accounts", accountsPage, async (f) => {
    const local = (f.local ?? "").trim().toLowerCase();
    const address = `${local}@${(f.domain ?? "").trim().toLowerCase()}`;
    if (!/^[a-z0-9._+-]{1,64}$/.test(local)) return { kind: "error", text: "The mailbox name may use letters, digits and . _ + -" };
    if ((f.password ?? "").length < 10) return { kind: "error", text: "Choose a password of at least 10 characters." };
    await core.store.createAccount(address, f.password!);
    return { kind: "ok", text: `${address} created.` };
  });

  // ---- one account
  async function accountPage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const a = await core.store.getAccount(param(c, "address"));
    if (!a) return c.text("No such account.", 404);
    const [q, isAdmin] = await Promise.all([core.store.getQuota(a.id), security.isAdmin(a.id)]);
    const csrf = c.get("csrf");
    const base = `/admin/accounts/${enc(a.address)}`;
    const self = a.address === v.address;
    return adminFrame(
      c,
      v,
      a.address,
      "/admin/accounts",
      <>
        <p class="small">
          <a href="/admin/accounts">← Accounts</a>
        </p>
        <h1>{a.address}</h1>
        <FlashNotice flash={flash} />
        <div class="grid two">
          <section class="card" id="status">
            <h2>Status</h2>
            <dl class="settings">
              <dt>Login</dt>
              <dd>{a.disabled ? <span class="pill fail">disabled</span> : <span class="pill pass">enabled</span>}</dd>
              <dt>Role</dt>
              <dd>{isAdmin ? "admin" : "user"}</dd>
              <dt>Created</dt>
              <dd>{when(a.createdAt)}</dd>
            </dl>
            <p class="small muted">A disabled account cannot log in anywhere (IMAP, POP3, SMTP, the web); mail to it is still delivered and kept.</p>
            <div class="actions">
              {self ? (
                <span class="muted small">This is you: another admin can disable your account or change your role.</span>
              ) : (
                <>
                  {a.disabled ? (
                    <PostButton action={`${base}/enable`} csrf={csrf} label="Enable login" kind="primary" small={false} />
                  ) : (
                    <PostButton action={`${base}/disable`} csrf={csrf} label="Disable login" kind="danger" small={false} confirm={`Disable ${a.address}? It can no longer log in.`} />
                  )}
                  <PostButton action={`${base}/admin`} csrf={csrf} label={isAdmin ? "Remove admin" : "Make admin"} small={false} fields={{ admin: isAdmin ? "0" : "1" }} />
                </>
              )}
            </div>
          </section>
          <section class="card" id="quota">
            <h2>Quota</h2>
            <p>
              In use: <b>{usage(q)}</b>
            </p>
            <form method="post" action={`${base}/quota`}>
              <Csrf token={csrf} />
              <div class="row">
                <Field id="storage" label="Storage limit (MB)" inputmode="numeric" placeholder="no limit" value={q.storageKib === null ? "" : String(Math.ceil(q.storageKib / 1024))} />
                <Field id="messages" label="Message limit" inputmode="numeric" placeholder="no limit" value={q.messages === null ? "" : String(q.messages)} />
                <button type="submit">Save</button>
              </div>
            </form>
            <p class="small muted">Empty means no limit. At the limit, new mail is refused with "mailbox full" (SMTP 452, IMAP OVERQUOTA); nothing already stored is removed.</p>
          </section>
        </div>
        <RowForm title="Reset the password" action={`${base}/password`} csrf={csrf} submit="Set password" secondary>
          <Field id="newpw" name="password" label="New password" type="password" autocomplete="new-password" required />
        </RowForm>
      </>,
      status,
    );
  }
  const account = async (c: C): Promise<Account> => {
    const a = await core.store.getAccount(param(c, "address"));
    if (!a) throw new RangeError("No such account.");
    return a;
  };
  /** The account page's forms: a RangeError is the user's mistake, said on the page. */
  const accountPost = (path: string, act: (a: Account, f: Record<string, string>, v: Viewer) => Promise<Flash>) =>
    adminPost(app, ctx, `/admin/accounts/:address${path}`, accountPage, async (f, c, v) => {
      try {
        return await act(await account(c), f, v);
      } catch (e) {
        if (e instanceof RangeError) return { kind: "error", text: e.message };
        throw e;
      }
    });
  app.get(
    "/admin/accounts/:address",
    asAdmin(ctx, (c, v) => accountPage(c, v)),
  );
  for (const [path, disabled] of [
    ["/disable", true],
    ["/enable", false],
  ] as const)
    accountPost(path, async (a, _f, v) => {
      if (a.address === v.address) return { kind: "error", text: "You cannot disable your own account." };
      await core.store.setDisabled(a.address, disabled);
      return { kind: "ok", text: disabled ? `${a.address} is disabled: it cannot log in.` : `${a.address} can log in again.` };
    });
  accountPost("/quota", async (a, f) => {
    const storageMb = limit(f.storage, "storage");
    await core.store.setQuota(a.id, { storageKib: storageMb === null ? null : storageMb * 1024, messages: limit(f.messages, "message") });
    return { kind: "ok", text: "Quota saved." };
  });
  accountPost("/password", async (a, f) => {
    const pw = f.password ?? "";
    if (pw.length < 10) return { kind: "error", text: "Choose a password of at least 10 characters." };
    await core.store.setPassword(a.address, pw);
    return { kind: "ok", text: `Password of ${a.address} changed.` };
  });
  accountPost("/admin", async (a, f, v) => {
    if (a.address === v.address) return { kind: "error", text: "You cannot change your own role." };
    await security.setAdmin(a.id, f.admin === "1");
    return { kind: "ok", text: `${a.address} is ${f.admin === "1" ? "now an admin" : "no longer an admin"}.` };
  });
}
