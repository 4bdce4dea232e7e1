/** @jsxImportSource hono/jsx */
// The ACME plugin's status (GET /api/admin/tls, through the admin API) as a table, for the
// wizard's certificate step and the admin TLS page; a "get certificates now" button posts
// to /api/admin/tls/renew. Without the acme plugin the table says so.
import type { AdminApi } from "./admin-api.ts";
import { Csrf, Notice, when } from "./ui.tsx";

export interface AcmeName {
  name: string;
  state: string;
  issuer: string | null;
  notAfter: string | null;
  renewAt: string | null;
  nextAttemptAt: string | null;
  failures: number;
  lastError: string | null;
}
export interface AcmeStatus {
  acme: boolean;
  directory: string | null;
  names: AcmeName[];
}

export async function acmeStatus(api: AdminApi | undefined): Promise<AcmeStatus | null> {
  if (!api) return null;
  const r = await api<AcmeStatus>("GET", "/tls");
  return r.status === 200 ? r.body : null;
}

export async function acmeRenew(api: AdminApi | undefined): Promise<string | null> {
  if (!api) return "ACME is not available";
  const r = await api<{ names: AcmeName[] }>("POST", "/tls/renew", {});
  return r.status === 200 ? null : (r.body.error ?? `refused (${r.status})`);
}

const stamp = (iso: string | null) => (iso ? when(Date.parse(iso)) : "—");
const pillOf = (state: string) => (/valid|issued|ok|active/i.test(state) ? "pass" : /fail|error/i.test(state) ? "fail" : "warn");

export function AcmeTable(p: { s: AcmeStatus | null; csrf: string; action: string }) {
  if (!p.s) return <Notice kind="info">Certificates from an ACME authority are not available in this server (no acme plugin).</Notice>;
  if (!p.s.acme) return <Notice kind="info">ACME is off ([acme] enabled = false, or the host name is not a public DNS name). Set tls.certFile/keyFile for your own certificate.</Notice>;
  return (
    <section class="card">
      <h2>Certificates from {p.s.directory}</h2>
      <div class="scroll">
        <table class="stack" id="acme-names">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Expires</th>
              <th>Renewal</th>
            </tr>
          </thead>
          <tbody>
            {p.s.names.map((n) => (
              <tr>
                <td data-k="Name" class="mono">
                  {n.name}
                </td>
                <td data-k="State">
                  <span class={`pill ${pillOf(n.state)}`}>{n.state}</span>
                  {n.lastError && <div class="small muted">{n.lastError}</div>}
                </td>
                <td data-k="Expires">{stamp(n.notAfter)}</td>
                <td data-k="Renewal">
                  {stamp(n.renewAt)}
                  {n.nextAttemptAt && <div class="small muted">next try {stamp(n.nextAttemptAt)}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form method="post" action={p.action} class="actions">
        <Csrf token={p.csrf} />
        <button type="submit">Get certificates now</button>
      </form>
    </section>
  );
}
