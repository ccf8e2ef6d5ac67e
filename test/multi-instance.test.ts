import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { createOrganizationWithAdmin } from "../src/accounts/organizations.js";
import { createApiKey } from "../src/api/keys.js";
import { loadConfig } from "../src/config.js";
import { createConnection } from "../src/connections/create.js";
import { type DevIdp, demoIdpSetup, startDevIdp } from "../src/dev-idp/server.js";
import { addDomain } from "../src/domains/add.js";
import type { AppContext } from "../src/server/context.js";
import { createContext } from "../src/server/context-factory.js";
import { createLogger } from "../src/server/log.js";
import { type Answer, Browser, csrfToken, errorCode } from "./support/browserless.js";
import { postgresUrlVariable, type TestDatabase, testDatabases } from "./support/databases.js";
import { freePort } from "./support/gatehouse.js";
import { refusedWithinRunnableTime } from "./support/latency-bound.js";
import { type GatehouseProcess, spawnGatehouse } from "./support/processes.js";
import { acmeOktaInput, signInAtIdp } from "./support/sso.js";

const postgres = testDatabases().find((dialect) => dialect.name === "postgres");
// Per test rather than per suite, so that the runner counts each one as skipped.
const skip = postgres ? false : `${postgresUrlVariable} is not set`;
const ATTEMPTS_PER_ACCOUNT = 3;

/** Starts two or more processes at once and waits until each answers /healthz. */
async function startInstances(
  database: Pick<TestDatabase, "url" | "env">,
  ports: number[],
  baseUrl: string,
): Promise<GatehouseProcess[]> {
  const instances = ports.map((port) =>
    spawnGatehouse({
      port,
      env: {
        ...database.env,
        GATEHOUSE_DATABASE_URL: database.url,
        // One load balancer in front: every instance has the same public URL.
        GATEHOUSE_BASE_URL: baseUrl,
        GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
        GATEHOUSE_PASSWORD_ATTEMPTS_PER_ACCOUNT: String(ATTEMPTS_PER_ACCOUNT),
        GATEHOUSE_DATABASE_POOL_SIZE: "3",
      },
    }),
  );
  try {
    await Promise.all(instances.map((instance) => instance.waitHealthy()));
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.stop()));
    throw error;
  }
  return instances;
}

describe("several Gatehouse instances over one PostgreSQL", () => {
  let database: TestDatabase;
  let idp: DevIdp;
  let ctx: AppContext;
  let a: GatehouseProcess;
  let b: GatehouseProcess;
  let connectionId: string;

  /** The same URL reached on instance B: what a load balancer does with the next request. */
  const onB = (url: string) => {
    const target = new URL(url);
    target.port = String(b.port);
    return target.toString();
  };

  async function signedInEmail(browser: Browser, instance: GatehouseProcess): Promise<string | undefined> {
    const home = await browser.get(`${instance.url}/`);
    return /data-field="email">([^<]+)</.exec(home.body)?.[1];
  }

  /** SSO begun on A: through the IdP and back, stopping at the redirect to the callback. */
  async function throughIdp(browser: Browser, email: string, password: string): Promise<Answer> {
    const start = await browser.get(`${a.url}/sso/start?email=${encodeURIComponent(email)}`);
    return signInAtIdp(browser, start, idp, email, password, a.url);
  }

  before(async () => {
    if (!postgres) return;
    database = await postgres.create();
    const [portA, portB] = await Promise.all([freePort(), freePort()]);
    const baseUrl = `http://localhost:${portA}`;
    idp = await startDevIdp({ port: 0, ...demoIdpSetup(`${baseUrl}/`) });
    ctx = await createContext(
      loadConfig({
        ...database.env,
        GATEHOUSE_DATABASE_URL: database.url,
        GATEHOUSE_BASE_URL: baseUrl,
        GATEHOUSE_ALLOW_PRIVATE_ISSUERS: "1",
      }),
      { migrate: false, log: createLogger("warn", new Writable({ write: (_c, _e, done) => done() })) },
    );
    const { organization } = await createOrganizationWithAdmin(ctx, {
      slug: "acme",
      name: "Acme",
      adminEmail: "owner@acme-corp.test",
      adminPassword: "correct horse battery staple",
    });
    // Only verified domains route to a connection; the operator vouches for acme.test here.
    await addDomain(ctx, { organizationId: organization.id, actorUserId: null }, "acme.test", {
      operatorVerified: true,
    });
    const { connection } = await createConnection(ctx, {
      organizationId: organization.id,
      input: acmeOktaInput(idp),
      actorUserId: null,
    });
    connectionId = connection.id;
    [a, b] = (await startInstances(database, [portA, portB], baseUrl)) as [
      GatehouseProcess,
      GatehouseProcess,
    ];
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await idp?.close();
    await ctx?.store.close();
    await database?.drop();
  });

  test("SSO begun on A finishes on B, and the session works on both", { skip }, async () => {
    const browser = new Browser();
    const back = await throughIdp(browser, "alice@acme.test", "alice-password");
    const answer = await browser.get(onB(back.location as string));
    assert.equal(answer.status, 303, errorCode(answer.body) ?? answer.body.slice(0, 300));
    assert.equal(new URL(answer.location as string).pathname, "/");
    assert.equal(await signedInEmail(browser, a), "alice@acme.test");
    assert.equal(await signedInEmail(browser, b), "alice@acme.test");
  });

  test("signing out on B ends the session on A at once", { skip }, async () => {
    const browser = new Browser();
    const back = await throughIdp(browser, "bob@acme.test", "bob-password");
    assert.equal((await browser.get(back.location as string)).status, 303);
    assert.equal(await signedInEmail(browser, a), "bob@acme.test");
    // A copy of the cookies as they are now: A must refuse the session itself, not just miss the cookie.
    const copy = new Browser();
    for (const [name, value] of browser.cookies()) copy.cookies().set(name, value);

    const home = await browser.get(`${b.url}/`);
    const out = await browser.post(`${b.url}/logout`, { _csrf: csrfToken(home.body) });
    assert.equal(out.status, 303);
    assert.equal(await signedInEmail(copy, b), undefined);
    // A may have the session in its cache: the revocation reaches it through PostgreSQL's
    // notifications, within the 100 ms the multi-instance rules allow.
    await refusedWithinRunnableTime(
      async () => (await signedInEmail(copy, a)) === undefined,
      100,
      "instance A, after sign-out on B",
    );
  });

  test("password attempts are counted across instances", { skip }, async () => {
    const browser = new Browser();
    const attempt = async (instance: GatehouseProcess) => {
      const login = await browser.get(`${instance.url}/login`);
      return browser.post(`${instance.url}/login/password`, {
        _csrf: csrfToken(login.body),
        email: "dana@elsewhere.test",
        password: "not the password",
      });
    };
    assert.equal((await attempt(a)).status, 401);
    assert.equal((await attempt(a)).status, 401);
    assert.equal((await attempt(b)).status, 401);
    const fourth = await attempt(b);
    assert.equal(fourth.status, 429);
    assert.equal(errorCode(fourth.body), "AUTH_RATE_LIMITED");
  });

  test("a connection deleted through A is refused by B at once, also for a sign-in already under way", {
    skip,
  }, async () => {
    // This sign-in starts on B and is at the IdP when the connection is deleted.
    const pending = new Browser();
    const start = await pending.get(`${b.url}/sso/start?email=alice@acme.test`);
    const back = await signInAtIdp(pending, start, idp, "alice@acme.test", "alice-password", a.url);

    const { key } = await createApiKey(ctx, "acme", "operations");
    const deleted = await fetch(`${a.url}/api/v1/connections/${connectionId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(deleted.status, 204);

    const refused = await new Browser().get(`${b.url}/sso/start?email=alice@acme.test`);
    assert.equal(refused.status, 404);
    assert.equal(errorCode(refused.body), "SSO_NO_CONNECTION");

    const callback = await pending.get(onB(back.location as string));
    assert.equal(errorCode(callback.body), "CONNECTION_NOT_FOUND");
    assert.equal(callback.status, 404);
    assert.equal(await signedInEmail(pending, b), undefined);
  });
});

/** A TCP relay to PostgreSQL that the test can cut, as a network failure or a database restart would. */
async function startRelay(target: URL, port = 0): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect({ host: target.hostname, port: Number(target.port || 5432) });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

describe("health checks", () => {
  let database: TestDatabase;
  let instance: GatehouseProcess | undefined;
  let relay: { port: number; cut(): Promise<void> } | undefined;

  before(async () => {
    if (postgres) database = await postgres.create();
  });

  after(async () => {
    await instance?.stop();
    await relay?.cut();
    await database?.drop();
  });

  // Regression: the pool's "error" event for a dropped idle connection had no listener and
  // ended the process, so a database restart took every instance down with it.
  test("an instance outlives a database outage: /healthz answers 503 during it and 200 after", {
    skip,
  }, async () => {
    const direct = new URL(database.url);
    relay = await startRelay(direct);
    const relayed = new URL(database.url);
    relayed.port = String(relay.port);
    const port = await freePort();
    const [running] = await startInstances(
      { url: relayed.toString(), env: database.env },
      [port],
      `http://localhost:${port}`,
    );
    instance = running as GatehouseProcess;

    await relay.cut();
    const down = await fetch(`${instance.url}/healthz`).catch((error: unknown) => {
      const output = (instance?.output ?? []).filter((line) => !line.startsWith(" ")).slice(-10);
      throw new Error(`no answer from the instance: ${String(error)}\n${output.join("\n")}`);
    });
    assert.equal(down.status, 503);
    assert.equal(((await down.json()) as { status: string }).status, "unavailable");

    relay = await startRelay(direct, relay.port);
    await instance.waitHealthy(5000);
    assert.equal(instance.child.exitCode, null);
  });
});

describe("migrations when several instances start at once", () => {
  let database: TestDatabase;
  let instances: GatehouseProcess[] = [];

  before(async () => {
    if (postgres) database = await postgres.create({ migrate: false });
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await database?.drop();
  });

  test("both become healthy on a fresh schema and the migrations run once", { skip }, async () => {
    const ports = await Promise.all([freePort(), freePort()]);
    instances = await startInstances(database, ports, `http://localhost:${ports[0]}`);

    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
      database.store.db,
    );
    const names = rows.map((row) => row.name);
    assert.ok(names.includes("0001-initial"), names.join(", "));
    // Exactly one instance applied them, all of them; the other found nothing left to do.
    const applied = instances.map((instance) =>
      instance.logs().flatMap((line) => (line.msg === "database migrated" ? [line.applied] : [])),
    );
    assert.deepEqual(applied.flat(), [names], `applied per instance: ${JSON.stringify(applied)}`);
    const tables = await sql<{ n: number }>`
      select count(*)::int as n from information_schema.tables
      where table_schema = current_schema() and table_name = 'sessions'`.execute(database.store.db);
    assert.equal(tables.rows[0]?.n, 1);
  });
});
