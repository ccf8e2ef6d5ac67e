import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import pino from "pino";
import { loadConfig } from "../../src/config.js";
import { buildApp } from "../../src/server/app.js";
import { createContext } from "../../src/server/context-factory.js";
import { createLogger, lazyRequestLogger } from "../../src/server/log.js";

test("at LOG_LEVEL=info each request writes one line: method, path without query, status, duration, request id", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gatehouse-request-log-"));
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const ctx = await createContext(
    loadConfig({ GATEHOUSE_DATABASE_URL: `sqlite:${path.join(dir, "gatehouse.db")}`, LOG_LEVEL: "info" }),
    { log: createLogger("info", sink) },
  );
  const app = await buildApp(ctx);
  try {
    lines.length = 0;
    const requests = [
      { url: "/healthz", status: 200 },
      { url: "/login?email=ada%40acme.test&return_to=%2Fsecret", status: 200 },
      { url: "/api/v1/me", status: 401 },
      { url: "/nowhere?code=abc", status: 404 },
    ];
    for (const { url, status } of requests) {
      assert.equal((await app.inject({ method: "GET", url })).statusCode, status, url);
    }
    assert.equal(lines.length, requests.length, JSON.stringify(lines, null, 1));
    for (const [i, line] of lines.entries()) {
      const expected = requests[i] as { url: string; status: number };
      assert.equal(line.method, "GET");
      assert.equal(line.path, expected.url.split("?")[0]);
      assert.equal(line.status, expected.status);
      assert.equal(typeof line.ms, "number");
      assert.match(String(line.reqId), /^req-/);
      assert.doesNotMatch(JSON.stringify(line), /ada|secret|abc/);
    }
    // A refusal says why on the same line.
    assert.equal(lines[2]?.code, "AUTH_UNAUTHENTICATED");
  } finally {
    await app.close();
    await ctx.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a request's child logger is made only when a handler logs through request.log, and names the request", () => {
  const made: pino.Bindings[] = [];
  const lines: Record<string, unknown>[] = [];
  const parent = pino(
    { level: "info" },
    {
      write(line: string) {
        lines.push(JSON.parse(line));
      },
    },
  );
  const counting = Object.create(parent) as typeof parent;
  counting.child = ((bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => {
    made.push(bindings);
    return parent.child(bindings, options);
  }) as unknown as typeof parent.child;

  const quiet = lazyRequestLogger(counting, { reqId: "req-1" }, {});
  assert.equal(quiet.level, "info");
  assert.deepEqual(made, [], "no child for a request that logs nothing");

  const chatty = lazyRequestLogger(counting, { reqId: "req-2" }, {});
  chatty.warn({ code: "X" }, "first");
  chatty.info("second");
  chatty.debug("below the level");
  assert.deepEqual(made, [{ reqId: "req-2" }], "one child, made on first use");
  assert.deepEqual(
    lines.map((l) => [l.reqId, l.msg, l.code]),
    [
      ["req-2", "first", "X"],
      ["req-2", "second", undefined],
    ],
  );

  const routeLevel = lazyRequestLogger(counting, { reqId: "req-3" }, { level: "debug" });
  assert.equal(routeLevel.level, "debug", "a route's own level before the child exists");
  routeLevel.debug("at the route's level");
  assert.equal(lines.at(-1)?.msg, "at the route's level");
});
