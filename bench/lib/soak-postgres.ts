import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { childPids } from "./proc.js";

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the soak's own: initdb'd into a temporary folder, listening on
 * 127.0.0.1 only, restarted on purpose during the run and deleted at the end. It never touches
 * the PostgreSQL other people use on 5432. The server runs as the `postgres` OS user (it
 * refuses root); if the soak dies without cleaning up, the exit hook stops it and removes it.
 */
export interface ThrowawayPostgres {
  /** For Gatehouse and the soak's own queries: `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  port: number;
  dir: string;
  /** `pg_ctl restart -m fast`; resolves once the server accepts connections again. */
  restart(): Promise<void>;
  /** The postmaster and its children (backends, checkpointer, ...), for their CPU. */
  pids(): number[];
  stop(): Promise<void>;
}

const PREFERRED_PORT = 55432;

function binaries(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (!newest) throw new Error(`no PostgreSQL binaries under ${root}/*/bin`);
  return path.join(root, newest, "bin");
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

async function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = binaries();
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  // Another soak may hold 55432: two runs must not share a cluster.
  const port = (await portIsFree(PREFERRED_PORT)) ? PREFERRED_PORT : await anyFreePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-soak-pg-"));
  chownSync(dir, uid, gid);
  const data = path.join(dir, "data");
  const asPostgres = (tool: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args], { cwd: dir });
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    // Two Gatehouse pools of 10, the soak's own, and room to spare.
    "-c max_connections=60",
  ].join(" ");

  let stopped = false;
  const removeNow = () => {
    if (stopped) return;
    stopped = true;
    spawnSync(
      "runuser",
      ["-u", "postgres", "--", path.join(bin, "pg_ctl"), "-D", data, "stop", "-m", "immediate"],
      {
        stdio: "ignore",
        timeout: 10_000,
      },
    );
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", removeNow);

  try {
    await asPostgres("initdb", [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
    await asPostgres("pg_ctl", [
      "-D",
      data,
      "-o",
      options,
      "-l",
      path.join(dir, "log"),
      "start",
      "-w",
      "-t",
      "30",
    ]);
  } catch (error) {
    removeNow();
    process.off("exit", removeNow);
    throw error;
  }

  const postmasterPid = (): number | undefined => {
    try {
      return Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      return undefined;
    }
  };

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async restart() {
      // postmaster.opts keeps the start options: the restarted server listens where it did.
      await asPostgres("pg_ctl", [
        "-D",
        data,
        "-l",
        path.join(dir, "log"),
        "restart",
        "-m",
        "fast",
        "-w",
        "-t",
        "30",
      ]);
    },
    pids() {
      const pid = postmasterPid();
      return pid ? [pid, ...childPids(pid)] : [];
    },
    async stop() {
      if (stopped) return;
      try {
        await asPostgres("pg_ctl", ["-D", data, "stop", "-m", "fast", "-w", "-t", "10"]);
      } catch {
        // removeNow stops it the hard way.
      }
      removeNow();
      process.off("exit", removeNow);
    },
  };
}
