import { createSocket } from "node:dgram";
import { createServer, type Socket } from "node:net";
import dnsPacket from "dns-packet";

/** What the server answers for one name. Names not in the zone answer NXDOMAIN. */
export type DnsEntry =
  /** TXT records, each a list of strings (a record split in several strings has several). */
  | { txt: string[][] }
  | { rcode: "SERVFAIL" | "REFUSED" }
  /** Never answers: the client times out. */
  | { silent: true };

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, the form `GATEHOUSE_DNS_SERVERS` takes. */
  address: string;
  /** Sets (or with undefined, removes) what a name answers. */
  set(name: string, entry: DnsEntry | undefined): void;
  /** Queries received, by lower-cased name. */
  queries: Map<string, number>;
  close(): Promise<void>;
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const UDP_LIMIT = 512;

/**
 * A real authoritative DNS server on loopback for the verification tests: UDP on a free port, and
 * TCP on the same port for answers too large for UDP (the resolver retries over TCP when the UDP
 * answer comes back truncated). Answers TXT from `zone`; nothing is mocked in the resolver.
 */
export async function startDnsServer(zone: Record<string, DnsEntry> = {}): Promise<TestDnsServer> {
  const entries = new Map(Object.entries(zone).map(([name, entry]) => [name.toLowerCase(), entry]));
  const queries = new Map<string, number>();

  function answer(query: Buffer): Buffer | undefined {
    const packet = dnsPacket.decode(query);
    const question = packet.questions?.[0];
    if (!question) return undefined;
    const name = question.name.toLowerCase();
    queries.set(name, (queries.get(name) ?? 0) + 1);
    const entry = entries.get(name);
    if (entry && "silent" in entry) return undefined;
    const rcode = !entry ? RCODES.NXDOMAIN : "rcode" in entry ? RCODES[entry.rcode] : RCODES.NOERROR;
    const txt = entry && "txt" in entry && question.type === "TXT" ? entry.txt : [];
    return dnsPacket.encode({
      type: "response",
      id: packet.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | ((packet.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode,
      questions: [question],
      answers: txt.map((strings) => ({
        type: "TXT" as const,
        name: question.name,
        ttl: 60,
        class: "IN" as const,
        data: strings,
      })),
    });
  }

  const udp = createSocket("udp4");
  udp.on("message", (message, remote) => {
    let response: Buffer | undefined;
    try {
      response = answer(message);
    } catch {
      return;
    }
    if (!response) return;
    if (response.length > UDP_LIMIT) {
      // RFC 1035 §4.2.1: too long for UDP; set TC so the client asks again over TCP.
      const decoded = dnsPacket.decode(response);
      response = dnsPacket.encode({
        type: "response",
        id: decoded.id ?? 0,
        flags: (decoded.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
        questions: decoded.questions ?? [],
        answers: [],
      });
    }
    udp.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind(0, "127.0.0.1", () => resolve());
  });
  const port = udp.address().port;

  const sockets = new Set<Socket>();
  const tcp = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const response = answer(message);
        if (!response) continue;
        const framed = Buffer.alloc(2 + response.length);
        framed.writeUInt16BE(response.length, 0);
        response.copy(framed, 2);
        socket.write(framed);
      }
    });
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, "127.0.0.1", () => resolve());
  });

  return {
    address: `127.0.0.1:${port}`,
    set(name, entry) {
      if (entry) entries.set(name.toLowerCase(), entry);
      else entries.delete(name.toLowerCase());
    },
    queries,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}
