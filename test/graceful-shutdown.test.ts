import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Browser, csrfToken } from "./support/browserless.js";
import { freePort } from "./support/gatehouse.js";
import { type GatehouseProcess, spawnGatehouse } from "./support/processes.js";

let dir: string;
let gatehouse: GatehouseProcess;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "gatehouse-shutdown-"));
  const port = await freePort();
  gatehouse = spawnGatehouse({
    port,
    env: {
      GATEHOUSE_BASE_URL: `http://localhost:${port}`,
      GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "gatehouse.db")}`,
      // The line written when a request arrives, which the test waits for, is a debug line.
      LOG_LEVEL: "debug",
    },
  });
  await gatehouse.waitHealthy();
});

after(async () => {
  await gatehouse?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("SIGTERM", () => {
  test("lets a request in flight finish with a real answer, refuses new connections, and exits 0", async () => {
    const browser = new Browser();
    const login = await browser.get(`${gatehouse.url}/login`);
    const cookie = [...browser.cookies()].map(([name, value]) => `${name}=${value}`).join("; ");
    const body = new URLSearchParams({ _csrf: csrfToken(login.body), email: "dana@example.test" }).toString();

    // The request is in flight: headers and half the body are on the wire, the rest is held back.
    const socket = await open(gatehouse.port);
    const answer = readAll(socket);
    socket.write(
      [
        "POST /login HTTP/1.1",
        `Host: localhost:${gatehouse.port}`,
        "Content-Type: application/x-www-form-urlencoded",
        `Content-Length: ${Buffer.byteLength(body)}`,
        `Cookie: ${cookie}`,
        "",
        "",
      ].join("\r\n"),
    );
    const half = Math.floor(body.length / 2);
    socket.write(body.slice(0, half));
    // Until the server has read the headers, the connection counts as idle and shutdown may drop it.
    await gatehouse.waitForLog((line) => {
      const request = line.req as { method?: string; path?: string } | undefined;
      return line.msg === "incoming request" && request?.method === "POST" && request.path === "/login";
    });

    const signalled = Date.now();
    gatehouse.child.kill("SIGTERM");
    await refusesConnections(gatehouse.port);
    assert.equal(gatehouse.child.exitCode, null, "still running while a request is in flight");

    socket.write(body.slice(half));
    const response = await answer;
    const [statusLine] = response.split("\r\n");
    // The password step for an address without SSO: the request was fully handled.
    assert.equal(statusLine, "HTTP/1.1 200 OK", response.slice(0, 500));
    assert.match(response, /name="password"/);
    // The client's keep-alive connection is closed after the answer, so it cannot hold the exit up.
    assert.match(response, /\r\nconnection: close\r\n/i);

    const exit = await gatehouse.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, gatehouse.output.slice(-10).join("\n"));
    assert.ok(Date.now() - signalled < 5000, "exited within a few seconds of SIGTERM");
  });
});

describe("SIGTERM with GATEHOUSE_SHUTDOWN_DELAY_SECONDS", () => {
  test("/readyz turns 503 first while requests are still served, then the process exits 0", async () => {
    const port = await freePort();
    const draining = spawnGatehouse({
      port,
      env: {
        GATEHOUSE_BASE_URL: `http://localhost:${port}`,
        GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "draining.db")}`,
        GATEHOUSE_SHUTDOWN_DELAY_SECONDS: "2",
      },
    });
    try {
      await draining.waitHealthy();
      draining.child.kill("SIGTERM");
      await draining.waitForLog(
        (line) => line.msg === "draining: /readyz answers 503 until the listener closes",
      );
      const ready = await fetch(`${draining.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { failed: string }).failed, "draining");
      assert.equal((await fetch(`${draining.url}/livez`)).status, 200);
      assert.equal((await fetch(`${draining.url}/login`)).status, 200, "requests are still served");
      const exit = await draining.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
    } finally {
      await draining.stop();
    }
  });
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes the connection: the keep-alive socket must not hold shutdown up. */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.once("end", () => resolve(text));
    socket.once("error", reject);
  });
}

/** Waits, briefly, until the listening socket is closed: a new connection is refused. */
async function refusesConnections(port: number): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const probe = connect({ port, host: "127.0.0.1" });
      probe.once("connect", () => {
        probe.destroy();
        resolve(false);
      });
      probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
    });
    if (refused) return;
    if (Date.now() > deadline) assert.fail("new connections were still accepted 3 s after SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
