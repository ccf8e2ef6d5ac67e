import type { ChildProcess } from "node:child_process";
import { Resolver } from "node:dns/promises";

/** Not yet bound: no answer, or the port still closed. Any answer at all means it serves. */
const NOT_LISTENING = new Set(["ETIMEOUT", "ECONNREFUSED"]);

/**
 * The process exists before its sockets do: ready is when a query is answered. A server that
 * exits instead (a port taken, a configuration refused) or was never there fails with its log.
 */
export async function waitAnswering(child: ChildProcess, address: string, log: readonly string[]) {
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const gone = () => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([address]);
  const deadline = Date.now() + 5_000;
  while (!gone() && Date.now() < deadline) {
    try {
      await resolver.resolveTxt("ready.invalid");
      return;
    } catch (error) {
      if (!NOT_LISTENING.has((error as NodeJS.ErrnoException).code ?? "")) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stopChild(child);
  if (spawnError) throw spawnError;
  throw new Error(
    `${child.spawnfile} did not answer on ${address} (pid ${child.pid}): ${log.join("\n").slice(-2000)}`,
  );
}

/** SIGTERM, then SIGKILL if it is still running two seconds later. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
  await exited;
  clearTimeout(timer);
}
