/** @jsxImportSource hono/jsx */
// The wizard's smarthost step (issue 20): when outbound port 25 is blocked, mail can leave
// through a provider's relay. A preset or a custom smtp(s):// URL, the login, and a "Test"
// button running the same check as `kotakpos relay test` (core/delivery/relay-check.ts);
// "Save" tests first, then keeps the password in <data>/relay.password (0600), uses the
// relay at once (the live config, read per delivery) and writes [delivery.relay] into
// <data>/kotakpos.toml when that file has none yet — else it shows the lines to add.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RelayCheck } from "../../core/delivery/relay-check.ts";
import { RELAY_PRESETS, type RelayConfig } from "../../core/delivery/relay.ts";
import type { Core } from "../../core/types.ts";
import { Csrf, Notice } from "./ui.tsx";

export interface RelayForm {
  preset: string;
  url: string;
  username: string;
}

export interface RelayOutcome {
  check: RelayCheck;
  form: RelayForm;
  /** After a save: where it was written, or the lines to add by hand. */
  saved?: { file?: string; toml: string };
}

/** The relay the form describes (the CA of delivery.relay.caFile is kept, for a private CA). */
export function relayFromForm(core: Core, f: Record<string, string>): { relay: RelayConfig; form: RelayForm } | { error: string } {
  const preset = (f.preset ?? "").trim();
  const url = (f.url ?? "").trim();
  const username = (f.username ?? "").trim();
  if (preset !== "custom" && !RELAY_PRESETS[preset]) return { error: "Choose a provider, or Custom and its address." };
  if (preset === "custom" && !/^smtps?:\/\/[^\s/]+$/i.test(url)) return { error: "The relay's address looks like smtp://smtp.example.com:587 (STARTTLS) or smtps://smtp.example.com:465 (TLS)." };
  if (username && !f.password) return { error: "Give the relay password (or an API key, as the provider calls it)." };
  const relay: RelayConfig = { url: preset === "custom" ? url : "", preset: preset === "custom" ? "" : preset, username, passwordFile: "", caFile: core.config.delivery.relay.caFile, domains: [] };
  return { relay, form: { preset, url, username } };
}

const q = (s: string) => JSON.stringify(s);

/** The [delivery.relay] section for kotakpos.toml. */
export function relayToml(r: RelayConfig): string {
  const lines = ["[delivery.relay]", r.preset ? `preset = ${q(r.preset)}` : `url = ${q(r.url)}`];
  if (r.username) lines.push(`username = ${q(r.username)}`, `passwordFile = ${q(r.passwordFile)}`);
  if (r.caFile) lines.push(`caFile = ${q(r.caFile)}`);
  return lines.join("\n") + "\n";
}

/** Keep the password (0600), use the relay now, and write it into the config file when
 *  that file exists and has no relay yet (checked to parse afterwards, else undone). */
export function saveRelay(core: Core, relay: RelayConfig, password: string | undefined): { file?: string; toml: string } {
  const saved: RelayConfig = { ...relay };
  if (relay.username) {
    saved.passwordFile = join(core.dataDir, "relay.password");
    writeFileSync(saved.passwordFile, `${password ?? ""}\n`, { mode: 0o600 });
    chmodSync(saved.passwordFile, 0o600); // the mode above applies only to a new file
  }
  Object.assign(core.config.delivery.relay, saved);
  const toml = relayToml(saved);
  const file = join(core.dataDir, "kotakpos.toml");
  if (!existsSync(file)) return { toml };
  const before = readFileSync(file, "utf8");
  if (/^\s*\[delivery\.relay\]|^\s*relay\s*=/m.test(before)) return { toml };
  const after = `${before.replace(/\n*$/, "\n")}\n# Added by the setup wizard (smarthost).\n${toml}`;
  try {
    Bun.TOML.parse(after);
  } catch {
    return { toml };
  }
  writeFileSync(file, after);
  return { file, toml };
}

export function RelayCard(p: { action: string; csrf: string; blocked: boolean; outcome?: RelayOutcome; error?: string; caFile: string }) {
  const f = p.outcome?.form ?? { preset: "", url: "", username: "" };
  return (
    <section class="card" id="relay">
      <h2>Send through a smarthost</h2>
      <p class="small muted">
        {p.blocked ? "Your provider blocks outbound port 25, so other servers cannot be reached directly. " : "Optional: "}
        Outbound mail can go through a relay instead (your provider's, or a sending service) over TLS with a login. Receiving is not affected.
      </p>
      {p.error && <Notice kind="error">{p.error}</Notice>}
      {p.outcome && (
        <div class={`fix ${p.outcome.check.ok ? "ok" : "bad"}`} id="relay-result">
          <b>{p.outcome.check.ok ? (p.outcome.saved ? "Saved: outbound mail goes through the relay now" : "The relay works") : "The relay cannot be used"}</b>
          {p.outcome.check.lines.map((l) => (
            <div class="mono small">{l}</div>
          ))}
          {p.outcome.saved &&
            (p.outcome.saved.file ? (
              <p class="small">Written to {p.outcome.saved.file}; the password is in relay.password beside it.</p>
            ) : (
              <>
                <p class="small">Add these lines to kotakpos.toml so it stays after a restart:</p>
                <pre class="value">{p.outcome.saved.toml}</pre>
                <button type="button" class="small secondary" data-copy={p.outcome.saved.toml}>
                  Copy
                </button>
              </>
            ))}
        </div>
      )}
      <form method="post" action={p.action}>
        <Csrf token={p.csrf} />
        <div class="row">
          <div>
            <label for="preset">Provider</label>
            <select id="preset" name="preset">
              <option value="" selected={!f.preset}>
                Choose…
              </option>
              {Object.entries(RELAY_PRESETS).map(([name, r]) => (
                <option value={name} selected={f.preset === name}>
                  {name} ({r.url.replace(/^smtps?:\/\//, "")})
                </option>
              ))}
              <option value="custom" selected={f.preset === "custom"}>
                Custom…
              </option>
            </select>
          </div>
          <div>
            <label for="relay-url">Custom address</label>
            <input id="relay-url" name="url" type="text" placeholder="smtp://smtp.example.com:587" value={f.url} />
          </div>
        </div>
        <div class="row">
          <div>
            <label for="relay-user">User name</label>
            <input id="relay-user" name="username" type="text" autocomplete="off" value={f.username} />
          </div>
          <div>
            <label for="relay-pw">Password or API key</label>
            <input id="relay-pw" name="password" type="password" autocomplete="off" />
          </div>
        </div>
        <p class="small muted">
          TLS is always required and the certificate verified (587 with STARTTLS, 2525 when 587 is blocked too, or 465 with TLS).{p.caFile && ` Trusting the CA in ${p.caFile} too.`}
        </p>
        <div class="actions">
          <button type="submit" name="action" value="test" class="secondary">
            Test
          </button>
          <button type="submit" name="action" value="save">
            Test and use it
          </button>
        </div>
      </form>
    </section>
  );
}
