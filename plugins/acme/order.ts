// One ACME order (RFC 8555 §7.4) for one name with acme-client: account from the database,
// the challenge answered by the caller's functions, errors sorted into permanent and
// temporary (RFC 8555 §6.7 problem types), Retry-After kept (§6.6).
import { AsyncLocalStorage } from "node:async_hooks";
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import * as acme from "acme-client";
import type { Db } from "../../core/db/open.ts";
import { loadAccount, saveAccount } from "./store.ts";
import { OrderError } from "./order-error.ts";

export interface ChallengeAnswer {
  /** Put the answer in place (HTTP-01 token, DNS-01 TXT record). */
  create(type: string, name: string, token: string, keyAuthorization: string): Promise<void>;
  remove(type: string, name: string, token: string, keyAuthorization: string): Promise<void>;
}

/** Problem types after which retrying the same order cannot help (RFC 8555 §6.7, RFC 8659). */
const PERMANENT = new Set(
  [
    "rejectedIdentifier",
    "caa",
    "unsupportedIdentifier",
    "badCSR",
    "invalidContact",
    "unsupportedContact",
    "externalAccountRequired",
    "userActionRequired",
    "badSignatureAlgorithm",
    "badPublicKey",
    "malformed",
  ].map((t) => `urn:ietf:params:acme:error:${t}`),
);

export { OrderError };

interface Problem {
  type?: string;
  retryAfter?: number;
}
const problems = new AsyncLocalStorage<Problem>();
const extraCas = new Set<string>();
let installed = false;

/** acme-client talks through one axios instance: trust the extra CAs there, see problems. */
function setUpHttp(caPem: string | undefined): void {
  if (caPem && !extraCas.has(caPem)) {
    extraCas.add(caPem);
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...rootCertificates, ...extraCas] });
  }
  if (installed) return;
  installed = true;
  // acme-client retries 429/5xx/network errors itself (5 s × attempt); our own backoff
  // between runs does the long waits, so one retry here is enough.
  (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 1;
  acme.axios.defaults.timeout = 30_000;
  acme.axios.interceptors.response.use((r) => {
    const p = problems.getStore();
    if (p && r.status >= 400) {
      const data = r.data as { type?: string } | undefined;
      if (data?.type) p.type = data.type;
      const ra = Number(r.headers["retry-after"]);
      if (Number.isFinite(ra) && ra > 0) p.retryAfter = ra;
      else if (typeof r.headers["retry-after"] === "string") {
        const at = Date.parse(r.headers["retry-after"]);
        if (!Number.isNaN(at)) p.retryAfter = Math.max(1, Math.round((at - Date.now()) / 1000));
      }
    }
    return r;
  });
}

export interface OrderOptions {
  db: Db;
  directory: string;
  caPem?: string;
  email?: string;
  name: string;
  /** The certificate's key (kept across renewals so TLSA 3 1 1 records stay valid). */
  keyPem: string;
  challenge: "http-01" | "dns-01";
  answer: ChallengeAnswer;
}

async function clientFor(o: OrderOptions): Promise<acme.Client> {
  let account = await loadAccount(o.db, o.directory);
  if (!account) {
    account = { keyPem: (await acme.crypto.createPrivateEcdsaKey()).toString() };
    await saveAccount(o.db, o.directory, account);
  }
  const client = new acme.Client({
    directoryUrl: o.directory,
    accountKey: account.keyPem,
    ...(account.url ? { accountUrl: account.url } : {}),
    backoffAttempts: 8,
    backoffMin: 500,
    backoffMax: 10_000,
  });
  if (!account.url) {
    await client.createAccount({ termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) });
    await saveAccount(o.db, o.directory, { ...account, url: client.getAccountUrl() });
  }
  return client;
}

/** Order a certificate for `name`; resolves with the PEM chain or throws OrderError. */
export async function orderCertificate(o: OrderOptions): Promise<string> {
  setUpHttp(o.caPem);
  const problem: Problem = {};
  return problems.run(problem, async () => {
    try {
      let client = await clientFor(o);
      const [, csr] = await acme.crypto.createCsr({ commonName: o.name, altNames: [o.name] }, o.keyPem);
      const order = () =>
        client.auto({
          csr,
          termsOfServiceAgreed: true,
          challengePriority: [o.challenge],
          // Our own self-check ran before the order; acme-client's uses the system's DNS and port 80.
          skipChallengeVerification: true,
          challengeCreateFn: (authz, ch, keyAuth) => o.answer.create(ch.type, authz.identifier.value, "token" in ch ? ch.token : "", keyAuth),
          challengeRemoveFn: (authz, ch, keyAuth) => o.answer.remove(ch.type, authz.identifier.value, "token" in ch ? ch.token : "", keyAuth),
        });
      try {
        return await order();
      } catch (err) {
        // The CA forgot the account (deleted, or a test CA restarted): register again once.
        if (problem.type !== "urn:ietf:params:acme:error:accountDoesNotExist") throw err;
        problem.type = undefined;
        const account = await loadAccount(o.db, o.directory);
        if (account) await saveAccount(o.db, o.directory, { keyPem: account.keyPem });
        client = await clientFor(o);
        return await order();
      }
    } catch (err) {
      if (err instanceof OrderError) throw err;
      const msg = (err as Error).message || String(err);
      throw new OrderError(msg, problem.type !== undefined && PERMANENT.has(problem.type), problem.retryAfter, problem.type);
    }
  });
}
