// A test's config as a kotakpos.toml for a spawned `kotakpos serve`.

function toml(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map(toml).join(", ")}]` : String(v);
}

/** Flat TOML of nested tables (enough for our config: tables of scalars and arrays). */
export function toToml(obj: Record<string, unknown>, path: string[] = []): string {
  const scalars: string[] = [];
  const tables: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === "object" && !Array.isArray(v)) tables.push(toToml(v as Record<string, unknown>, [...path, k]));
    else scalars.push(`${k} = ${toml(v)}`);
  }
  return [...(path.length && scalars.length ? [`[${path.join(".")}]`] : []), ...scalars, ...tables].join("\n");
}
