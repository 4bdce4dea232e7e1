/** @jsxImportSource hono/jsx */
// Login (through the core's `auth` hook, so its per-IP and per-account limiter applies),
// the TOTP step, logout, and the guard the other pages use.
import type { Hono } from "hono";
import type { AuthUser } from "../../core/types.ts";
import { isStoreError } from "../../core/store/errors.ts";
import { clientIp, isHttps, type C, type ConsoleCtx, type Env, type Form } from "./context.ts";
import { Csrf, Notice, Page, type Flash, type Viewer } from "./ui.tsx";
import { webConnection } from "./web-conn.ts";

/** The logged-in user (complete session of an enabled account), else null. */
export async function viewerOf(ctx: ConsoleCtx, c: C): Promise<(Viewer & { user: AuthUser }) | null> {
  const s = c.get("session");
  if (!s?.complete) return null;
  const acct = await ctx.core.store.getAccountById(s.accountId);
  if (!acct || acct.disabled) return null;
  return { address: acct.address, admin: await ctx.security.isAdmin(acct.id), user: { accountId: acct.id, address: acct.address } };
}

export const toLogin = (c: C) => c.redirect(`/login?next=${encodeURIComponent(new URL(c.req.url).pathname)}`, 303);

/** The admin viewing, or the response to send instead (login redirect, 403). */
export async function adminOf(ctx: ConsoleCtx, c: C): Promise<Viewer | Response> {
  const v = await viewerOf(ctx, c);
  if (!v) return toLogin(c);
  if (!v.admin) return c.text("Forbidden: admin accounts only.", 403);
  return v;
}

/** A route handler for admins only (others get the login redirect or 403). */
export const asAdmin =
  <X extends C>(ctx: ConsoleCtx, fn: (c: X, v: Viewer) => Promise<Response> | Response) =>
  async (c: X): Promise<Response> => {
    const v = await adminOf(ctx, c);
    return v instanceof Response ? v : fn(c, v);
  };

/** An admin page in the console's frame. */
export const adminFrame = (c: C, v: Viewer, title: string, path: string, body: unknown, status: 200 | 400 = 200) =>
  c.html(
    <Page title={title} viewer={v} csrf={c.get("csrf")} path={path}>
      {body as never}
    </Page>,
    status,
  );

/** Only same-site paths may follow a login. */
const safeNext = (n: string | undefined) => (n && /^\/(?!\/)[\w\-/.]*$/.test(n) ? n : "");

function LoginPage(p: { csrf: string; error?: string; next: string; address?: string }) {
  return (
    <Page title="Log in" narrow>
      <div class="card">
        <h1>Log in</h1>
        {p.error && <Notice kind="error">{p.error}</Notice>}
        <form method="post" action="/login">
          <Csrf token={p.csrf} />
          <input type="hidden" name="next" value={p.next} />
          <label for="address">Email address</label>
          <input id="address" name="address" type="email" autocomplete="username" required value={p.address ?? ""} />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          <div class="actions">
            <button type="submit">Log in</button>
          </div>
        </form>
      </div>
    </Page>
  );
}

function TotpPage(p: { csrf: string; error?: string; next: string }) {
  return (
    <Page title="Two-factor login" narrow>
      <div class="card">
        <h1>Two-factor login</h1>
        <p class="muted">Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
        {p.error && <Notice kind="error">{p.error}</Notice>}
        <form method="post" action="/login/totp">
          <Csrf token={p.csrf} />
          <input type="hidden" name="next" value={p.next} />
          <label for="code">Code</label>
          <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required />
          <div class="actions">
            <button type="submit">Verify</button>
          </div>
        </form>
      </div>
    </Page>
  );
}

export function loginRoutes(app: Hono<Env>, ctx: ConsoleCtx): void {
  const { core, sessions, security } = ctx;
  app.get("/login", async (c) => {
    if (await viewerOf(ctx, c)) return c.redirect("/account", 303);
    return c.html(<LoginPage csrf={c.get("csrf")} next={safeNext(c.req.query("next"))} />);
  });
  app.post("/login", async (c) => {
    const f = c.get("form");
    const next = safeNext(f.next);
    const address = (f.address ?? "").trim().slice(0, 320);
    const conn = webConnection(clientIp(c), core.log, isHttps(c));
    const r = await core.hooks.first("auth", conn, { mechanism: "PLAIN", username: address, password: f.password ?? "" });
    if (r.kind !== "user") {
      const tooMany = r.kind === "reject" && r.reply.code === 421;
      return c.html(
        <LoginPage csrf={c.get("csrf")} next={next} address={address} error={tooMany ? "Too many failed logins. Wait a few minutes and try again." : "Wrong email address or password."} />,
        tooMany ? 429 : 401,
      );
    }
    const st = await security.state(r.user.accountId);
    await sessions.end(c, c.get("session"));
    await sessions.start(c, r.user.accountId, !st.totpEnabled, clientIp(c));
    if (st.totpEnabled) return c.redirect(`/login/totp${next ? `?next=${encodeURIComponent(next)}` : ""}`, 303);
    return c.redirect(next || ((await security.isAdmin(r.user.accountId)) ? "/admin" : "/account"), 303);
  });
  app.get("/login/totp", (c) => {
    const s = c.get("session");
    if (!s) return c.redirect("/login", 303);
    return c.html(<TotpPage csrf={c.get("csrf")} next={safeNext(c.req.query("next"))} />);
  });
  app.post("/login/totp", async (c) => {
    const s = c.get("session");
    if (!s) return c.redirect("/login", 303);
    const f = c.get("form");
    const code = (f.code ?? "").trim();
    const ok = /^\d{6}$/.test(code) ? await security.verifyTotp(s.accountId, code) : await security.useRecoveryCode(s.accountId, code);
    if (!ok) return c.html(<TotpPage csrf={c.get("csrf")} next={safeNext(f.next)} error="That code is not right (or was used already)." />, 401);
    await sessions.complete(s);
    return c.redirect(safeNext(f.next) || ((await security.isAdmin(s.accountId)) ? "/admin" : "/account"), 303);
  });
  app.post("/logout", async (c) => {
    await sessions.end(c, c.get("session"));
    return c.redirect("/login", 303);
  });
}

/** An admin page that shows a form's outcome (and answers 400 after an error). */
export type AdminPage = (c: C, v: Viewer, flash?: Flash, status?: 200 | 400) => Promise<Response>;

/** A form POST of an admin page: act on the form, then show the page again with the
 *  outcome; a store error (a name taken, a domain still in use …) becomes the message. */
export function adminPost(app: Hono<Env>, ctx: ConsoleCtx, path: string, page: AdminPage, act: (form: Form, c: C, v: Viewer) => Promise<Flash>): void {
  app.post(
    path,
    asAdmin(ctx, async (c, v) => {
      let flash: Flash;
      try {
        flash = await act(c.get("form"), c, v);
      } catch (e) {
        if (!isStoreError(e)) throw e;
        flash = { kind: "error", text: e.message };
      }
      return page(c, v, flash, flash?.kind === "error" ? 400 : 200);
    }),
  );
}
