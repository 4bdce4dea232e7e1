/** @jsxImportSource hono/jsx */
// Account pages (every user): change password, two-factor login with TOTP (RFC 6238, QR
// code, recovery codes), app passwords (named, revocable, last use) for mail apps.
import type { Hono } from "hono";
import type { C, ConsoleCtx, Env } from "./context.ts";
import { mailSettings, MailSettings } from "./mail-settings.tsx";
import { toLogin, viewerOf } from "./routes-login.tsx";
import { totpFor } from "./security.ts";
import { Csrf, Notice, Page, PostButton, qrSvg, Table, when } from "./ui.tsx";

type Flash = { kind: "ok" | "error"; text: string } | { kind: "secret"; title: string; secret: string; note: string } | { kind: "codes"; codes: string[] };

export function accountRoutes(app: Hono<Env>, ctx: ConsoleCtx): void {
  const { core, security, sessions } = ctx;

  async function render(c: C, flash?: Flash, status: 200 | 400 = 200) {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const st = await security.state(v.user.accountId);
    const apps = await security.listAppPasswords(v.user.accountId);
    const csrf = c.get("csrf");
    return c.html(
      <Page title="My account" viewer={v} csrf={csrf} path="/account">
        <h1>My account</h1>
        {flash?.kind === "ok" && <Notice kind="ok">{flash.text}</Notice>}
        {flash?.kind === "error" && <Notice kind="error">{flash.text}</Notice>}
        {flash?.kind === "secret" && (
          <div class="card">
            <h2>{flash.title}</h2>
            <p>
              <span class="secret" id="new-secret">
                {flash.secret}
              </span>{" "}
              <button type="button" class="small secondary" data-copy={flash.secret}>
                Copy
              </button>
            </p>
            <p class="small muted">{flash.note}</p>
          </div>
        )}
        {flash?.kind === "codes" && (
          <div class="card">
            <h2>Two-factor login is on</h2>
            <p>Keep these recovery codes somewhere safe: each one logs you in once if you lose your phone. They are shown only now.</p>
            <ul class="codes" id="recovery-codes">
              {flash.codes.map((x) => (
                <li>{x}</li>
              ))}
            </ul>
          </div>
        )}
        <div class="grid two">
          <section class="card">
            <h2>Password</h2>
            <form method="post" action="/account/password">
              <Csrf token={csrf} />
              <label for="current">Current password</label>
              <input id="current" name="current" type="password" autocomplete="current-password" required />
              <label for="new">New password</label>
              <input id="new" name="password" type="password" autocomplete="new-password" required />
              <label for="new2">New password again</label>
              <input id="new2" name="password2" type="password" autocomplete="new-password" required />
              <div class="actions">
                <button type="submit">Change password</button>
              </div>
            </form>
          </section>
          <section class="card">
            <h2>Two-factor login</h2>
            {st.totpEnabled ? (
              <>
                <p>
                  <span class="pill pass">on</span> The web login asks for a code from your authenticator app. Mail apps (IMAP, POP3, SMTP) need an app password; your main password works only here.
                </p>
                <p class="small muted">{st.recoveryLeft} recovery codes left.</p>
                <form method="post" action="/account/totp/disable" data-confirm="Turn two-factor login off?">
                  <Csrf token={csrf} />
                  <label for="tcode">Code from your app</label>
                  <input id="tcode" name="code" type="text" inputmode="numeric" required />
                  <div class="actions">
                    <button type="submit" class="danger">
                      Turn off
                    </button>
                  </div>
                </form>
              </>
            ) : (
              <>
                <p>
                  <span class="pill unknown">off</span> Protect the web login with a code from an authenticator app (TOTP). Mail apps then use app passwords.
                </p>
                <div class="actions">
                  <a class="button" href="/account/totp">
                    Turn on two-factor login
                  </a>
                </div>
              </>
            )}
          </section>
        </div>
        <section class="card">
          <h2>App passwords</h2>
          <p class="small muted">A separate password for each mail app (IMAP, POP3, SMTP). Revoke one when you lose the device.</p>
          <Table
            id="app-passwords"
            rows={apps}
            cols={[
              { label: "Name", cell: (a) => <b>{a.name}</b> },
              { label: "Created", cell: (a) => when(a.createdAt) },
              { label: "Last used", cell: (a) => when(a.lastUsed) },
              { label: "", cell: (a) => <PostButton action={`/account/app-passwords/${a.id}/revoke`} csrf={csrf} label="Revoke" kind="danger" confirm={`Revoke ${a.name}?`} /> },
            ]}
          />
          <form method="post" action="/account/app-passwords">
            <Csrf token={csrf} />
            <div class="row">
              <div>
                <label for="appname">New app password for</label>
                <input id="appname" name="name" type="text" placeholder="Phone, Thunderbird at work …" required maxlength={60} />
              </div>
              <button type="submit">Create</button>
            </div>
          </form>
        </section>
        <section class="card">
          <h2>Moving in?</h2>
          <p class="small muted">Copy the mail of your old account (any IMAP server: folders, flags and dates kept) into this one.</p>
          <a class="button secondary" href="/account/import">
            Import from another server
          </a>
        </section>
        <MailSettings s={mailSettings(core, v.address)} />
      </Page>,
      status,
    );
  }

  app.get("/account", (c) => render(c));

  // For same-origin scripts (the webmail): who is logged in and the CSRF token their
  // writes must carry in X-CSRF-Token. No CORS: other sites cannot read it.
  app.get("/account/session.json", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return c.json({ error: "not logged in" }, 401);
    return c.json({ address: v.address, admin: v.admin, csrf: c.get("csrf") });
  });

  app.post("/account/password", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const f = c.get("form");
    if (!(await core.store.verifyPassword(v.address, f.current ?? ""))) return render(c, { kind: "error", text: "The current password is not right." }, 400);
    if ((f.password ?? "").length < 10) return render(c, { kind: "error", text: "Choose a password of at least 10 characters." }, 400);
    if (f.password !== f.password2) return render(c, { kind: "error", text: "The two new passwords differ." }, 400);
    await core.store.setPassword(v.address, f.password!);
    await sessions.endAll(v.user.accountId, c.get("session")?.id);
    return render(c, { kind: "ok", text: "Password changed. Other web sessions were logged out." });
  });

  app.get("/account/totp", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const secret = await security.beginTotp(v.user.accountId);
    const uri = (await totpFor(secret, v.address)).toString();
    const qr = await qrSvg(uri);
    const csrf = c.get("csrf");
    return c.html(
      <Page title="Two-factor login" viewer={v} csrf={csrf} path="/account">
        <h1>Turn on two-factor login</h1>
        <div class="grid two">
          <section class="card">
            <h2>1. Scan the code</h2>
            <p class="small muted">With an authenticator app (Aegis, FreeOTP, Google Authenticator, 1Password …).</p>
            <div class="qr" dangerouslySetInnerHTML={{ __html: qr }}></div>
            <p class="small">
              Or type this key: <code id="totp-secret">{secret}</code>
            </p>
          </section>
          <section class="card">
            <h2>2. Enter the code it shows</h2>
            <form method="post" action="/account/totp">
              <Csrf token={csrf} />
              <label for="code">6-digit code</label>
              <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required />
              <div class="actions">
                <button type="submit">Turn on</button>
                <a href="/account">Cancel</a>
              </div>
            </form>
          </section>
        </div>
      </Page>,
    );
  });

  app.post("/account/totp", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const codes = await security.enableTotp(v.user.accountId, c.get("form").code ?? "");
    if (!codes) return render(c, { kind: "error", text: "That code is not right: two-factor login stays off. Try again." }, 400);
    return render(c, { kind: "codes", codes });
  });

  app.post("/account/totp/disable", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    if (!(await security.verifyTotp(v.user.accountId, c.get("form").code ?? ""))) return render(c, { kind: "error", text: "That code is not right: two-factor login stays on." }, 400);
    await security.disableTotp(v.user.accountId);
    return render(c, { kind: "ok", text: "Two-factor login is off." });
  });

  app.post("/account/app-passwords", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const name = (c.get("form").name ?? "").trim().slice(0, 60);
    if (!name) return render(c, { kind: "error", text: "Give the app password a name." }, 400);
    const pw = await security.addAppPassword(v.user.accountId, name);
    return render(c, { kind: "secret", title: `App password for ${name}`, secret: pw, note: "Type it into the app as its password. It is shown only now." });
  });

  app.post("/account/app-passwords/:id/revoke", async (c) => {
    const v = await viewerOf(ctx, c);
    if (!v) return toLogin(c);
    const ok = await security.revokeAppPassword(v.user.accountId, Number(c.req.param("id")));
    return render(c, ok ? { kind: "ok", text: "App password revoked." } : { kind: "error", text: "No such app password." });
  });
}
