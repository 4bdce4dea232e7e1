// The generated kotakpos.toml documents every key of every built-in plugin's section (from
// the schema's v.description), not only the core's.
import { expect, test } from "bun:test";
import { renderDefaultConfig } from "../../core/config-file.ts";
import { builtinPlugins } from "../../plugins/index.ts";

test("every plugin key in the default config file has a description line above it", () => {
  const text = renderDefaultConfig(builtinPlugins);
  const undocumented: string[] = [];
  let section = "";
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) section = head[1]!;
    const key = /^# ([A-Za-z0-9_]+) = /.exec(line);
    if (!key || !builtinPlugins.some((p) => section === p.name || section.startsWith(`${p.name}.`))) continue;
    const above = lines[i - 1] ?? "";
    if (!above.startsWith("# ") || /^# [A-Za-z0-9_]+ = /.test(above)) undocumented.push(`${section}.${key[1]}`);
  }
  expect(undocumented).toEqual([]);
  for (const p of ["imap", "pop3", "smtp", "aliases", "mailauth"]) expect(text).toContain(`[${p}]`);
});
