/** @jsxImportSource hono/jsx */
// The setup wizard (/setup?token=…): step by step, each step checked live with a re-check
// button. Without the one-time token it answers 403 and nothing else; once finished it
// can never run again (the token file is deleted, the route refuses).
import net from "node:net";
import type { Hono } from "hono";
import { acmeRenew, acmeStatus, AcmeTable } from "./acme-status.tsx";
import { certificateInfo } from "./certificate.ts";
import { addressInfo, checkCertificate, checkDnsbl, checkDomainBl, checkDnsRecords, checkHostname, checkPort25, checkPtr, type CheckResult } from "./checks.ts";
import { clientIp, type C, type ConsoleCtx, type Env } from "./context.ts";
import { setSetting } from "./setup-state.ts";
import { CheckCard, Csrf, Notice, Page, qrSvg, when } from "./ui.tsx";
import { mailSettings, MailSettings } from "./mail-settings.tsx";
import { checkRelay } from "../../core/delivery/relay-check.ts";
import { resolverFromConfig } from "../../core/dns/index.ts";
import { RelayCard, relayFromForm, saveRelay, type RelayOutcome } from "./setup-relay.tsx";

const STEPS = [
  ["address", "Host name"],
  ["ptr", "Reverse DNS"],
  ["outbound", "Port 25, relay & blocklists"],
  ["account", "Domain & admin"],
  ["dns", "DNS records"],
  ["tls", "Certificate"],
  ["finish", "Finish"],
] as const;
type Step = (typeof STEPS)[number][0];

const forbidden = (c: C) => c.text("Forbidden: the setup link with its token is printed in the server's start-up banner and stored in setup.token in the data directory.", 403);

function Wizard(p: { token: string; step: Step; csrf: string; children: unknown }) {
  const at = STEPS.findIndex(([s]) => s === p.step);
  const link = (s: string) => `/setup?token=${encodeURIComponent(p.token)}&step=${s}`;
  const next = STEPS[at + 1];
  return (
    <Page title="Setup">
      <h1>Set up kotakpos</h1>
      <ol class="steps">
        {STEPS.map(([s, label], i) => (
          <li class={i === at ? "on" : i < at ? "done" : ""}>{i === at ? <span>{label}</span> : <a href={link(s)}>{label}</a>}</li>
        ))}
      </ol>
      {p.children as never}
      <div class="actions">
        {p.step !== "account" && p.step !== "finish" && (
          <a class="button secondary" href={link(p.step)} data-recheck>
            Re-check
          </a>
        )}
        {next && p.step !== "account" && (
          <a class="button" href={link(next[0])}>
            Next: {next[1]}
          </a>
        )}
      </div>
    </Page>
  );
}

export function setupRoutes(app: Hono<Env>, ctx: ConsoleCtx): void {
  const { core, setup, security, sessions } = ctx;

  async function gate(token: string | undefined): Promise<boolean> {
    return !(await setup.isDone()) && (await setup.valid(token));
  }
  const hasAdmin = async () => (await security.admins()).length > 0;
  const resolver = resolverFromConfig(core.config);
  /** The last smarthost test or save, shown on the outbound step (one wizard at a time). */
  let relayOutcome: RelayOutcome | undefined;

  app.get("/setup", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    const step = (STEPS.find(([s]) => s === c.req.query("step"))?.[0] ?? "address") as Step;
    const env = await ctx.checksEnv();
    const csrf = c.get("csrf");
    const w = (children: unknown) => c.html(<Wizard token={token!} step={step} csrf={csrf} children={children} />);
    const cards = (rs: CheckResult[], copy = false) => rs.map((r) => <CheckCard r={r} copy={copy} />);

    if (step === "address") {
      const info = await addressInfo(env);
      return w(
        <>
          <p class="muted">The mail host name must be a full DNS name whose A (and AAAA) record points at this server's public address.</p>
          {cards([await checkHostname(env, info)])}
          <section class="card">
            <h2>This server's public address</h2>
            <p class="small muted">
              {info.source === "configured"
                ? "As set here or in kotakpos.toml."
                : info.source === "interfaces"
                  ? "Detected on this machine's network interfaces."
                  : info.source === "dns"
                    ? "Taken from the host name's DNS record: this machine has no public address of its own (NAT)."
                    : "Not detected."}{" "}
              Correct it if it is wrong.
            </p>
            <form method="post" action={`/setup/address?token=${encodeURIComponent(token!)}`}>
              <Csrf token={csrf} />
              <div class="row">
                <div>
                  <label for="addresses">Public IP addresses (comma-separated)</label>
                  <input id="addresses" name="addresses" type="text" value={info.addresses.join(", ")} />
                </div>
                <button type="submit">Save</button>
              </div>
            </form>
          </section>
        </>,
      );
    }
    if (step === "ptr") return w(cards([await checkPtr(env, await addressInfo(env))]));
    if (step === "outbound") {
      const info = await addressInfo(env);
      const rs = await Promise.all([checkPort25(env), checkDnsbl(env, info, 4), checkDnsbl(env, info, 6), checkDomainBl(env)]);
      return w(
        <>
          {cards(rs)}
          {rs[0]!.status === "fail" || relayOutcome || c.req.query("relay") ? (
            <RelayCard
              action={`/setup/relay?token=${encodeURIComponent(token!)}`}
              csrf={csrf}
              blocked={rs[0]!.status === "fail"}
              outcome={c.req.query("relay") ? relayOutcome : undefined}
              caFile={core.config.delivery.relay.caFile}
            />
          ) : (
            <p class="small muted">
              Port 25 open: mail goes straight to the receiving servers. <a href={`/setup?token=${encodeURIComponent(token!)}&step=outbound&relay=1`}>Use a smarthost anyway</a>
            </p>
          )}
        </>,
      );
    }
    if (step === "account") {
      const admins = await security.admins();
      if (admins.length) {
        const a = await core.store.getAccountById(admins[0]!);
        return w(
          <section class="card check pass">
            <h2>Domain and admin account</h2>
            <p>
              The admin account <b>{a?.address}</b> exists. You are logged in as it.
            </p>
            <a class="button" href={`/setup?token=${encodeURIComponent(token!)}&step=dns`}>
              Next: DNS records
            </a>
          </section>,
        );
      }
      return w(<AccountForm token={token!} csrf={csrf} />);
    }
    if (step === "dns") {
      const domains = (await core.store.listDomains()).map((d) => d.name);
      if (domains.length === 0) return w(<Notice kind="info">Add a domain first (step 4).</Notice>);
      return w(
        <>
          <p class="muted">Create these records at your DNS host, then press Re-check. Each row shows the expected and the actual value.</p>
          <div class="fix">
            <b>Provider quirks</b>
            Most panels want the name without the domain (<code>@</code> for the domain itself, <code>_dmarc</code> …). Do not proxy mail records (Cloudflare: grey cloud, "DNS only"). A null SRV
            target is written as a single dot <code>.</code>; some panels refuse it — leave that record out then. A TTL of 3600 is fine; while fixing mistakes, use 300.
          </div>
          <br />
          {cards(await Promise.all(domains.map((d) => checkDnsRecords(env, d))), true)}
        </>,
      );
    }
    if (step === "tls") {
      const [cert, info, acme] = await Promise.all([certificateInfo(core), addressInfo(env), acmeStatus(ctx.api)]);
      const resolvesHere = info.addresses.length > 0 && [...info.hostA, ...info.hostAAAA].some((a) => info.addresses.includes(a));
      const r = (await checkCertificate({ ...env, certificate: async () => cert }))!;
      return w(
        <>
          <CheckCard r={r} />
          <section class="card">
            <h2>Certificate for {core.config.hostname}</h2>
            {cert && (
              <dl class="settings">
                <dt>Names</dt>
                <dd>{cert.names.join(", ") || cert.subject}</dd>
                <dt>Issuer</dt>
                <dd>{cert.selfSigned ? "self-signed (made at first start)" : cert.issuer}</dd>
                <dt>Expires</dt>
                <dd>{when(cert.notAfter)}</dd>
              </dl>
            )}
            <p class="small muted">
              {!resolvesHere
                ? `${core.config.hostname} does not resolve to this server yet: fix step 1 first; until then the self-signed certificate is used.`
                : acme?.acme
                  ? `${core.config.hostname} resolves to this server: the ACME authority below issues its certificate. Re-check to follow the progress.`
                  : `${core.config.hostname} resolves to this server.`}{" "}
              Your own certificate can be set with tls.certFile and tls.keyFile in kotakpos.toml.
            </p>
          </section>
          {c.req.query("acme") && (
            <Notice kind={c.req.query("acme") === "ok" ? "ok" : "error"}>{c.req.query("acme") === "ok" ? "Ordered: re-check to follow the progress." : c.req.query("acme")}</Notice>
          )}
          <AcmeTable s={acme} csrf={csrf} action={`/setup/acme?token=${encodeURIComponent(token!)}`} />
        </>,
      );
    }
    // finish
    const admins = await security.admins();
    const admin = admins.length ? await core.store.getAccountById(admins[0]!) : null;
    const settings = mailSettings(core, admin?.address ?? `you@${(await core.store.listDomains())[0]?.name ?? "example.com"}`);
    const profileUrl = `https://${core.config.hostname}/autoconfig/mobileconfig?email=${encodeURIComponent(settings.address)}`;
    const qr = await qrSvg(profileUrl);
    return w(
      <>
        <div class="grid two">
          <MailSettings s={settings} />
          <section class="card">
            <h2>On a phone</h2>
            <p class="small muted">Scan to download the configuration profile (iPhone, iPad, Mac), or open it from the phone's browser.</p>
            <div class="qr" dangerouslySetInnerHTML={{ __html: qr }}></div>
            <p>
              <a href={`/autoconfig/mobileconfig?email=${encodeURIComponent(settings.address)}`}>Download the .mobileconfig</a>
            </p>
          </section>
        </div>
        <section class="card">
          <h2>Test message</h2>
          {c.req.query("sent") === "1" && <Notice kind="ok">Sent: it is in {admin?.address}'s inbox. Open it in your mail app to see that reading works.</Notice>}
          <form method="post" action={`/setup/test-message?token=${encodeURIComponent(token!)}`}>
            <Csrf token={csrf} />
            <button type="submit" class="secondary" disabled={!admin}>
              Send me a test message
            </button>
          </form>
        </section>
        <section class="card">
          <h2>Finish</h2>
          <p>When you finish, this setup link stops working for good. Everything here stays available in the admin pages.</p>
          <form method="post" action={`/setup/finish?token=${encodeURIComponent(token!)}`}>
            <Csrf token={csrf} />
            <button type="submit" disabled={!admin}>
              Finish setup
            </button>
            {!admin && <span class="muted small"> Create the admin account first (step 4).</span>}
          </form>
        </section>
      </>,
    );
  });

  app.post("/setup/address", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    const list = (c.get("form").addresses ?? "").split(/[\s,]+/).filter(Boolean);
    if (list.some((a) => net.isIP(a) === 0)) return c.text("Not an IP address: give addresses like 192.0.2.10 or 2001:db8::1.", 400);
    await setSetting(core.db, "console.publicAddresses", JSON.stringify(list));
    return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=address`, 303);
  });

  app.post("/setup/account", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    if (await hasAdmin()) return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=dns`, 303);
    const f = c.get("form");
    const domain = (f.domain ?? "").trim().toLowerCase().replace(/\.$/, "");
    const local = (f.local ?? "").trim().toLowerCase();
    const fail = (msg: string) => c.html(<Wizard token={token!} step="account" csrf={c.get("csrf")} children={<AccountForm token={token!} csrf={c.get("csrf")} error={msg} f={f} />} />, 400);
    if (!/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) return fail("The domain must be a DNS name like example.com.");
    if (!/^[a-z0-9._+-]{1,64}$/.test(local)) return fail("The mailbox name may use letters, digits and . _ + -");
    if ((f.password ?? "").length < 10) return fail("Choose a password of at least 10 characters.");
    if (f.password !== f.password2) return fail("The two passwords differ.");
    if (!(await core.store.isLocalDomain(domain))) await core.store.addDomain(domain);
    const address = `${local}@${domain}`;
    const acct = (await core.store.getAccount(address)) ?? (await core.store.createAccount(address, f.password!));
    await security.setAdmin(acct.id, true);
    await sessions.end(c, c.get("session"));
    await sessions.start(c, acct.id, true, clientIp(c));
    return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=dns`, 303);
  });

  app.post("/setup/relay", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    const f = c.get("form");
    const back = () => c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=outbound&relay=1#relay`, 303);
    const parsed = relayFromForm(core, f);
    if ("error" in parsed) {
      relayOutcome = { check: { ok: false, lines: [parsed.error] }, form: { preset: f.preset ?? "", url: f.url ?? "", username: f.username ?? "" } };
      return back();
    }
    // The same check as `kotakpos relay test`, with the password given here.
    const check = await checkRelay(core.config, resolver, { relay: parsed.relay, env: { KOTAKPOS_RELAY_PASSWORD: f.password ?? "" } });
    relayOutcome = { check, form: parsed.form };
    if (check.ok && f.action === "save") {
      relayOutcome.saved = saveRelay(core, parsed.relay, f.password);
      core.log.info("setup: outbound mail goes through the relay now", { relay: parsed.relay.preset || parsed.relay.url });
    }
    return back();
  });

  app.post("/setup/acme", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    const err = await acmeRenew(ctx.api);
    return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=tls&acme=${encodeURIComponent(err ?? "ok")}`, 303);
  });

  app.post("/setup/test-message", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    const admins = await security.admins();
    const a = admins.length ? await core.store.getAccountById(admins[0]!) : null;
    if (!a) return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=account`, 303);
    const raw = [
      `From: kotakpos <postmaster@${a.address.split("@")[1]}>`,
      `To: ${a.address}`,
      "Subject: Test message from kotakpos",
      `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
      `Message-ID: <${crypto.randomUUID()}@${core.config.hostname}>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Your mail server ${core.config.hostname} delivers to your mailbox. Reply to a friend to test sending.`,
      "",
    ].join("\r\n");
    await core.spool.accept({ raw: new TextEncoder().encode(raw), prefix: [], mailFrom: "", local: [{ accountId: a.id, mailbox: "INBOX" }], remote: [], internal: true });
    return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=finish&sent=1`, 303);
  });

  app.post("/setup/finish", async (c) => {
    const token = c.req.query("token");
    if (!(await gate(token))) return forbidden(c);
    if (!(await hasAdmin())) return c.redirect(`/setup?token=${encodeURIComponent(token!)}&step=account`, 303);
    await setup.finish();
    core.log.info("setup finished");
    void ctx.health.run().catch(() => {});
    return c.redirect("/admin?setup=done", 303);
  });
}

function AccountForm(p: { token: string; csrf: string; error?: string; f?: Record<string, string> }) {
  return (
    <section class="card">
      <h2>First domain and admin account</h2>
      <p class="muted small">The first account becomes an admin: it can use the admin pages.</p>
      {p.error && <Notice kind="error">{p.error}</Notice>}
      <form method="post" action={`/setup/account?token=${encodeURIComponent(p.token)}`}>
        <Csrf token={p.csrf} />
        <div class="row">
          <div>
            <label for="local">Your mailbox</label>
            <input id="local" name="local" type="text" placeholder="you" required value={p.f?.local ?? ""} />
          </div>
          <div>
            <label for="domain">@ Domain</label>
            <input id="domain" name="domain" type="text" placeholder="example.com" required value={p.f?.domain ?? ""} />
          </div>
        </div>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required />
        <label for="password2">Password again</label>
        <input id="password2" name="password2" type="password" autocomplete="new-password" required />
        <div class="actions">
          <button type="submit">Create domain and account</button>
        </div>
      </form>
    </section>
  );
}
