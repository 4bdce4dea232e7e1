// kotakpos install | uninstall — run the server as a systemd service: a system user, the
// binary in /usr/local/bin, a hardened unit. Idempotent: a second run changes nothing.
// `--root DIR` writes everything under DIR instead of / (tests, image builders) and then
// never touches the running system (no useradd on the host, no systemctl).
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { positionals, str } from "./args.ts";
import type { Command } from "./command.ts";
import type { Ctx } from "./context.ts";
import { CommandError } from "./errors.ts";

export const SERVICE_USER = "kotakpos";
export const BINARY_PATH = "/usr/local/bin/kotakpos";
export const UNIT_PATH = "/etc/systemd/system/kotakpos.service";
export const DEFAULT_SERVICE_DATA = "/var/lib/kotakpos";

/** The hardened unit (systemd.exec(5)): only the data dir is writable, low ports through
 *  an ambient capability instead of root. */
export function unitText(dataDir: string): string {
  return `# Written by \`kotakpos install\`; \`kotakpos uninstall\` removes it.
[Unit]
Description=kotakpos mail server
Documentation=https://github.com/kotakpos/kotakpos
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${SERVICE_USER}
Group=${SERVICE_USER}
ExecStart=${BINARY_PATH} serve --data ${dataDir}
ExecReload=${BINARY_PATH} reload --data ${dataDir}
Restart=on-failure
RestartSec=5s
TimeoutStopSec=30s
LimitNOFILE=65536
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
ReadWritePaths=${dataDir}
PrivateTmp=true
PrivateDevices=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectControlGroups=true
RestrictSUIDSGID=true
LockPersonality=true
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

interface Step {
  what: string;
  changed: boolean;
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

/** The compiled executable we are running as, or null when run from source. */
export function ownExecutable(): string | null {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/") ? process.execPath : null;
}

function writeIfChanged(path: string, text: string, mode: number): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return true;
}

function sameFile(a: string, b: string): boolean {
  if (!existsSync(b)) return false;
  const sa = statSync(a);
  const sb = statSync(b);
  if (sa.size !== sb.size) return false;
  return Bun.hash(readFileSync(a)) === Bun.hash(readFileSync(b));
}

/** uid/gid of the service user from <root>/etc/passwd, or null. */
function lookupUser(root: string): { uid: number; gid: number } | null {
  const passwd = join(root, "etc/passwd");
  if (!existsSync(passwd)) return null;
  for (const line of readFileSync(passwd, "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === SERVICE_USER) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

const systemdRunning = (root: string) => root === "/" && existsSync("/run/systemd/system");

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new CommandError("must run as root (sudo kotakpos install); nothing was changed");
}

const ROOT_HELP = "  --root DIR    install under DIR instead of / (no user is added to this system, no systemctl)";

export const installCommand: Command = {
  name: "install",
  summary: "install as a systemd service (user, binary, unit); run as root",
  usage: ["install [--data DIR] [--binary FILE] [--root DIR]"],
  details: [
    "Options:",
    `  --data DIR    the service's data directory (default ${DEFAULT_SERVICE_DATA})`,
    "  --binary FILE the kotakpos executable to install (default: this one, when compiled)",
    ROOT_HELP,
    "",
    `Creates the system user ${SERVICE_USER}, copies the binary to ${BINARY_PATH}, writes`,
    `${UNIT_PATH} and, when systemd runs, enables and starts it. Running it again changes nothing.`,
  ],
  options: { binary: { type: "string" }, root: { type: "string" } },
  async run(ctx, p) {
    positionals(p, []);
    requireRoot();
    const root = resolve(str(p, "root") ?? "/");
    // --data is global (default ./data for other commands); a service gets /var/lib/kotakpos.
    const dataDir = p.values.data === undefined ? DEFAULT_SERVICE_DATA : ctx.globals.dataDir;
    const binary = str(p, "binary") ?? ownExecutable();
    if (!binary) throw new CommandError("run install from the compiled binary (npm run build), or name it with --binary FILE");
    if (!existsSync(binary)) throw new CommandError(`no such file: ${binary}`);
    const steps: Step[] = [];

    // 1. The system user (useradd --prefix edits <root>/etc without chroot).
    if (!lookupUser(root)) {
      const args = ["--system", "--user-group", "--home-dir", dataDir, "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER];
      const r = run("useradd", root === "/" ? args : ["--prefix", root, ...args]);
      if (!r.ok) throw new CommandError(`useradd ${SERVICE_USER} failed: ${r.out}`);
      steps.push({ what: `created system user ${SERVICE_USER}`, changed: true });
    } else steps.push({ what: `system user ${SERVICE_USER} exists`, changed: false });
    const user = lookupUser(root);
    if (!user) throw new CommandError(`user ${SERVICE_USER} was not found after useradd`);

    // 2. The binary.
    const target = join(root, BINARY_PATH);
    if (!sameFile(binary, target)) {
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(binary, target + ".new");
      chmodSync(target + ".new", 0o755);
      // rename over the old one: a running service keeps its (unlinked) file
      renameSync(target + ".new", target);
      steps.push({ what: `copied ${binary} to ${BINARY_PATH}`, changed: true });
    } else steps.push({ what: `${BINARY_PATH} is up to date`, changed: false });

    // 3. The data directory, owned by the service user, private.
    const data = join(root, dataDir);
    if (!existsSync(data)) {
      mkdirSync(data, { recursive: true, mode: 0o750 });
      steps.push({ what: `created ${dataDir}`, changed: true });
    }
    const st = statSync(data);
    if (st.uid !== user.uid || st.gid !== user.gid) {
      chownSync(data, user.uid, user.gid);
      steps.push({ what: `${dataDir} now owned by ${SERVICE_USER}`, changed: true });
    }

    // 4. The unit.
    const unitChanged = writeIfChanged(join(root, UNIT_PATH), unitText(dataDir), 0o644);
    steps.push({ what: unitChanged ? `wrote ${UNIT_PATH}` : `${UNIT_PATH} is up to date`, changed: unitChanged });

    for (const s of steps) ctx.io.out(`${s.changed ? "+" : "="} ${s.what}\n`);
    // 5. Enable and start, or say how.
    if (systemdRunning(root)) {
      const steps2 = [["daemon-reload"], ["enable", "kotakpos.service"], [unitChanged ? "restart" : "start", "kotakpos.service"]];
      for (const a of steps2) {
        const r = run("systemctl", a);
        if (!r.ok) throw new CommandError(`systemctl ${a.join(" ")} failed: ${r.out}`);
      }
      ctx.io.out("kotakpos is running: systemctl status kotakpos\n");
    } else {
      ctx.io.out(
        root === "/"
          ? "systemd is not running here: start it with\n  sudo -u kotakpos " + `${BINARY_PATH} serve --data ${dataDir}\n`
          : `installed under ${root}; on the target system run: systemctl daemon-reload && systemctl enable --now kotakpos\n`,
      );
    }
    ctx.io.out(`Next: the setup address is printed in the log (journalctl -u kotakpos | grep setup) and kept in ${dataDir}/setup.token\n`);
  },
};

export const uninstallCommand: Command = {
  name: "uninstall",
  summary: "remove the systemd service and the installed binary; the data stays",
  usage: ["uninstall [--root DIR]"],
  details: ["Options:", ROOT_HELP, "", `The data directory and the ${SERVICE_USER} user are kept (remove them by hand if wanted).`],
  options: { root: { type: "string" } },
  async run(ctx: Ctx, p) {
    positionals(p, []);
    requireRoot();
    const root = resolve(str(p, "root") ?? "/");
    const unit = join(root, UNIT_PATH);
    if (systemdRunning(root) && existsSync(unit)) {
      run("systemctl", ["disable", "--now", "kotakpos.service"]);
    }
    let changed = false;
    for (const f of [unit, join(root, BINARY_PATH)]) {
      if (existsSync(f)) {
        rmSync(f);
        ctx.io.out(`- removed ${f.slice(root === "/" ? 0 : root.length) || f}\n`);
        changed = true;
      }
    }
    if (systemdRunning(root) && changed) run("systemctl", ["daemon-reload"]);
    ctx.io.out(changed ? "uninstalled; the data directory and the kotakpos user are kept\n" : "nothing to remove: kotakpos is not installed\n");
  },
};
