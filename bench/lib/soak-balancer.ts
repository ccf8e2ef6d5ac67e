import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A round-robin TCP load balancer on 127.0.0.1, as an operator would put in front of several
 * Gatehouse instances: each client connection goes to the next backend; a backend whose connect
 * fails is skipped (the connection goes to the one after it) and left out for `RETRY_MS`, after
 * which one connection tries it again. No health checks and no HTTP awareness: what a client
 * sees when an instance dies mid-request is what it would see behind a real TCP balancer.
 */
export interface Backend {
  name: string;
  port: number;
}

export interface BackendCounters {
  /** Client connections handed to this backend, with when (ms on the caller's clock). */
  routedAt: number[];
  /** Connects to this backend that failed, with when; each was skipped. */
  refusedAt: number[];
}

export interface Balancer {
  url: string;
  port: number;
  counters: Record<string, BackendCounters>;
  /** Client connections closed at once because no backend accepted them. */
  unroutedAt: number[];
  close(): Promise<void>;
}

const RETRY_MS = 1000;
const CONNECT_TIMEOUT_MS = 2000;

export async function startBalancer(backends: readonly Backend[], clock: () => number): Promise<Balancer> {
  const counters: Record<string, BackendCounters> = {};
  const downUntil = new Map<string, number>();
  for (const backend of backends) counters[backend.name] = { routedAt: [], refusedAt: [] };
  const unroutedAt: number[] = [];
  const sockets = new Set<Socket>();
  let cursor = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Resets are normal here (an instance killed, a client gone); the pair is torn down below.
    socket.on("error", () => undefined);
  };

  /** Backends in the order this connection tries them: round-robin, the resting ones last. */
  const order = (): Backend[] => {
    const start = cursor++ % backends.length;
    const rotated = [...backends.slice(start), ...backends.slice(0, start)];
    const now = performance.now();
    const resting = (b: Backend) => (downUntil.get(b.name) ?? 0) > now;
    return [...rotated.filter((b) => !resting(b)), ...rotated.filter(resting)];
  };

  const server: Server = createServer({ pauseOnConnect: true }, (inbound) => {
    track(inbound);
    const candidates = order();
    const attempt = (index: number) => {
      const backend = candidates[index];
      if (!backend || inbound.destroyed) {
        unroutedAt.push(clock());
        inbound.destroy();
        return;
      }
      const outbound = connect({ host: "127.0.0.1", port: backend.port });
      track(outbound);
      outbound.setTimeout(CONNECT_TIMEOUT_MS, () => outbound.destroy(new Error("connect timeout")));
      let connected = false;
      outbound.once("connect", () => {
        connected = true;
        outbound.setTimeout(0);
        downUntil.delete(backend.name);
        counters[backend.name]?.routedAt.push(clock());
        const teardown = () => {
          inbound.destroy();
          outbound.destroy();
        };
        inbound.once("close", teardown);
        outbound.once("close", teardown);
        inbound.pipe(outbound);
        outbound.pipe(inbound);
        inbound.resume();
      });
      outbound.once("close", () => {
        if (connected) return;
        counters[backend.name]?.refusedAt.push(clock());
        downUntil.set(backend.name, performance.now() + RETRY_MS);
        attempt(index + 1);
      });
    };
    attempt(0);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counters,
    unroutedAt,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
