// JMAP test helpers: a server with two users, raw JSON calls with HTTP Basic auth.
import { startTestServer, type TestServer } from "../helpers/server.ts";

export const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
export const BOB = { address: "bob@example.test", password: "bob-pw-2" };
export const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

export function startJmap(): Promise<TestServer> {
  return startTestServer({ users: [ALICE, BOB], config: { jmap: { maxSizeUpload: 2_000_000 } } });
}

export const basic = (u: { address: string; password: string }) => "Basic " + Buffer.from(`${u.address}:${u.password}`).toString("base64");

export class Jmap {
  constructor(
    readonly base: string,
    readonly user: { address: string; password: string },
  ) {}
  static for(srv: TestServer, user = ALICE): Jmap {
    return new Jmap(`http://127.0.0.1:${srv.port("http")}`, user);
  }
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.base + path, { ...init, headers: { authorization: basic(this.user), ...(init.headers as Record<string, string>) } });
  }
  async session(): Promise<{ accountId: string; raw: Record<string, any> }> {
    const raw = (await (await this.fetch("/.well-known/jmap")).json()) as Record<string, any>;
    return { accountId: raw.primaryAccounts["urn:ietf:params:jmap:mail"], raw };
  }
  /** POSTs a raw body; returns status and parsed JSON. */
  async post(body: unknown): Promise<{ status: number; json: any }> {
    const r = await this.fetch("/jmap/api", { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
    return { status: r.status, json: await r.json() };
  }
  /** Runs method calls; returns methodResponses. */
  async call(calls: [string, Record<string, unknown>, string][], using = USING): Promise<[string, any, string][]> {
    const r = await this.post({ using, methodCalls: calls });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json.methodResponses;
  }
}
