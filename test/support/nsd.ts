import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stopChild, waitAnswering } from "./dns-daemon.js";
import { freePort } from "./gatehouse.js";

const NSD = "/usr/sbin/nsd";
export const nsdAvailable = existsSync(NSD);

export interface Nsd {
  /** `127.0.0.1:<port>`, the form `GATEHOUSE_DNS_SERVERS` takes. */
  address: string;
  stop(): Promise<void>;
}

/**
 * NLnet Labs' NSD, an authoritative-only server, in the foreground on loopback serving one zone
 * file. Everything it writes (zone list, transfer state) stays in a temporary folder, removed on
 * stop; it runs as the user that starts it, without chroot.
 */
export async function startNsd(options: { zone: string; zoneFile: string; port?: number }): Promise<Nsd> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(path.join(tmpdir(), "gatehouse-nsd-"));
  await writeFile(path.join(dir, "zone"), options.zoneFile);
  await writeFile(
    path.join(dir, "nsd.conf"),
    `server:
  ip-address: 127.0.0.1
  port: ${port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: ""
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: ${options.zone}
  zonefile: zone
`,
  );
  const child = spawn(NSD, ["-d", "-c", path.join(dir, "nsd.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  const log: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => log.push(...chunk.split("\n").filter(Boolean)));
  }
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitAnswering(child, address, log);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { address, stop };
}
