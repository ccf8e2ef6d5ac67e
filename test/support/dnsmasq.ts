import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { stopChild, waitAnswering } from "./dns-daemon.js";
import { freePort } from "./gatehouse.js";

const DNSMASQ = "/usr/sbin/dnsmasq";
export const dnsmasqAvailable = existsSync(DNSMASQ);

export interface DnsmasqOptions {
  /** Domains dnsmasq answers for itself: NXDOMAIN or NODATA for what it does not know there. */
  localDomains: readonly string[];
  /** `--txt-record` values: a name, then the record's strings (dnsmasq splits them on commas). */
  txt: ReadonlyArray<{ name: string; strings: readonly string[] }>;
  /** `--host-record` names (127.0.0.1): names that exist without any TXT record. */
  hosts?: readonly string[];
  /** `--cname`: a name that is an alias of another that dnsmasq knows. */
  cnames?: ReadonlyArray<{ name: string; target: string }>;
  /** A port chosen before start, when Gatehouse must be configured with it first. */
  port?: number;
}

export interface Dnsmasq {
  /** `127.0.0.1:<port>`, the form `GATEHOUSE_DNS_SERVERS` takes. */
  address: string;
  /** Every line dnsmasq logged (`--log-queries`), for what happened on the wire. */
  log: string[];
  /** The pid of the process listening on UDP; TCP connections are served by forked children. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Debian's dnsmasq in the foreground on loopback, answering only from its command line: no
 * /etc/dnsmasq.conf, /etc/hosts, /etc/resolv.conf nor upstream server, so nothing on the machine
 * changes what a test sees.
 */
export async function startDnsmasq(options: DnsmasqOptions): Promise<Dnsmasq> {
  const port = options.port ?? (await freePort());
  const args = [
    "--keep-in-foreground",
    "--conf-file=/dev/null",
    "--no-resolv",
    "--no-hosts",
    "--no-poll",
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    `--port=${port}`,
    "--pid-file=",
    "--log-queries",
    "--log-facility=-",
    ...options.localDomains.map((domain) => `--local=/${domain}/`),
    ...options.txt.map(
      ({ name, strings }) => `--txt-record=${[name, ...strings.map(withoutComma)].join(",")}`,
    ),
    ...(options.hosts ?? []).map((name) => `--host-record=${name},127.0.0.1`),
    ...(options.cnames ?? []).map(({ name, target }) => `--cname=${name},${target}`),
  ];
  const child = spawn(DNSMASQ, args, { stdio: ["ignore", "ignore", "pipe"] });
  const log: string[] = [];
  let pending = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    log.push(...lines);
  });
  const address = `127.0.0.1:${port}`;
  await waitAnswering(child, address, log);
  return { address, log, pid: child.pid ?? 0, stop: () => stopChild(child) };
}

/** dnsmasq splits a record's strings on commas and honours no quoting on its command line. */
function withoutComma(value: string): string {
  if (value.includes(",")) throw new Error(`dnsmasq cannot serve a TXT string holding a comma: ${value}`);
  return value;
}
