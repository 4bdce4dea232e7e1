// The console's pages for other plugins' data (aliases, DKIM keys) go through their JSON
// admin API, in process (the app's own fetch, with the admin token): plugins meet over
// their public interfaces, never by importing each other.
import type { Hono } from "hono";
import { adminToken } from "../../core/http.ts";

export interface ApiAnswer<T> {
  status: number;
  body: T & { error?: string };
}

export type AdminApi = <T>(method: string, path: string, body?: unknown) => Promise<ApiAnswer<T>>;

export function adminApiClient(app: Hono, dataDir: string): AdminApi {
  const token = adminToken(dataDir);
  return async <T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const res = await app.request(`/api/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { error: text.slice(0, 200) };
    }
    return { status: res.status, body: parsed as T & { error?: string } };
  };
}
