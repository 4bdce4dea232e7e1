// The boundary the design rests on (DESIGN.md "Layout"): the core never imports a plugin.
// Plugins are wired in only at the composition root (main.ts).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Every module specifier of a file: static and dynamic imports, re-exports, require. */
export function specifiers(src: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(["'`])([^"'`]+)\1/g;
  for (const m of src.matchAll(re)) out.push(m[2]!);
  return out;
}

test("the specifier scan sees every form of import", () => {
  const src = `import a from "../plugins/a.ts";\nexport { b } from '../../plugins/b.ts';\nconst c = await import("../plugins/c.ts");\nimport "../plugins/d.ts";\nrequire(\`../plugins/e.ts\`);`;
  expect(specifiers(src)).toEqual(["../plugins/a.ts", "../../plugins/b.ts", "../plugins/c.ts", "../plugins/d.ts", "../plugins/e.ts"]);
});

test("no file under core/ imports from plugins/", () => {
  const plugins = join(ROOT, "plugins");
  const offenders: string[] = [];
  for (const file of filesUnder(join(ROOT, "core"))) {
    if (file === import.meta.path) continue; // its own fixture above
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (target === plugins || target.startsWith(plugins + "/")) offenders.push(`${relative(ROOT, file)} -> ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});
