// npm run release: both Linux binaries (x64, arm64) in dist/ and dist/SHA256SUMS, the
// file `sha256sum -c SHA256SUMS` checks.
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
const lines: string[] = [];
for (const target of ["linux-x64", "linux-arm64"]) {
  const out = join(dist, `kotakpos-${target}`);
  const p = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), out, "--target", target], { stdout: "inherit", stderr: "inherit" });
  if (p.exitCode !== 0) process.exit(p.exitCode ?? 1);
  const sum = new Bun.CryptoHasher("sha256").update(readFileSync(out)).digest("hex");
  lines.push(`${sum}  ${basename(out)}`);
}
writeFileSync(join(dist, "SHA256SUMS"), lines.join("\n") + "\n");
console.log(lines.join("\n"));
