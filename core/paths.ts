// Where everything lives under the data directory (one place, as mox's mox-/dir.go):
// the config file, the database, the blobs, the control socket, the admin token and the
// extra plugins. Config keys may move the database, the blobs and the plugins folder.
import { join } from "node:path";
import type { Config } from "./config.ts";

export const CONFIG_FILE_NAME = "kotakpos.toml";
export const DB_FILE_NAME = "kotakpos.db";
export const CONTROL_SOCKET_NAME = "control.sock";
export const ADMIN_TOKEN_NAME = "admin.token";

export interface DataPaths {
  dataDir: string;
  configFile: string;
  /** libSQL URL: `database.url`, else the embedded file in the data directory. */
  databaseUrl: string;
  databaseAuthToken?: string;
  blobDir: string;
  pluginDir: string;
  controlSocket: string;
  adminToken: string;
}

export const configFileIn = (dataDir: string): string => join(dataDir, CONFIG_FILE_NAME);
export const controlSocketIn = (dataDir: string): string => join(dataDir, CONTROL_SOCKET_NAME);
export const adminTokenIn = (dataDir: string): string => join(dataDir, ADMIN_TOKEN_NAME);

/** Every path of a data directory under this config. */
export function dataPaths(dataDir: string, config: Pick<Config, "database" | "blobs" | "plugins">, configFile?: string): DataPaths {
  return {
    dataDir,
    configFile: configFile ?? configFileIn(dataDir),
    databaseUrl: config.database.url || `file:${join(dataDir, DB_FILE_NAME)}`,
    databaseAuthToken: config.database.authToken || undefined,
    blobDir: config.blobs.path || join(dataDir, "blobs"),
    pluginDir: config.plugins.dir || join(dataDir, "plugins"),
    controlSocket: controlSocketIn(dataDir),
    adminToken: adminTokenIn(dataDir),
  };
}
