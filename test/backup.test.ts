import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createApiKey } from "../src/api/keys.js";
import type { DevIdp } from "../src/dev-idp/server.js";
import { backupSqlite } from "../src/store/backup.js";
import { findConnection } from "../src/store/connections.js";
import { oidcOf } from "./store/fixtures.js";
import { Browser, passwordSignIn } from "./support/browserless.js";
import { startGatehouse, type TestGatehouse } from "./support/gatehouse.js";
import { ADMIN, connectAcme, seedAcme, startGatehouseWithIdp } from "./support/sso.js";

describe("gatehouse backup (SQLite online backup)", () => {
  let dir: string;
  let gh: TestGatehouse;
  let idp: DevIdp;
  const secretKey = randomBytes(32).toString("base64");

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-backup-"));
    ({ gh, idp } = await startGatehouseWithIdp({
      databaseUrl: `sqlite:${path.join(dir, "live.db")}`,
      env: { GATEHOUSE_SECRET_KEY: secretKey },
    }));
  });
  after(async () => {
    await gh?.close();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a backup taken while the server runs restores and serves: password sign-in, API key, sealed client secret", async () => {
    const { organizationId } = await seedAcme(gh);
    const connection = await connectAcme(gh, idp, organizationId);
    const { key } = await createApiKey(gh.ctx, "acme", "ci");
    // Committed rows that may still sit in the write-ahead log, not yet in the main file.
    const file = path.join(dir, "copy.db");
    const report = await backupSqlite(`sqlite:${path.join(dir, "live.db")}`, file);
    assert.ok(report.pages > 0);
    await assert.rejects(backupSqlite(`sqlite:${path.join(dir, "live.db")}`, file), /exists already/);

    const restored = await startGatehouse({
      databaseUrl: `sqlite:${file}`,
      env: { GATEHOUSE_SECRET_KEY: secretKey },
    });
    try {
      const signedIn = await passwordSignIn(new Browser(), restored.url, ADMIN.email, ADMIN.password);
      assert.equal(signedIn.status, 303);
      const users = await fetch(`${restored.url}/api/v1/users`, {
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(users.status, 200);
      const stored = await findConnection(restored.ctx.store.db, organizationId, connection.id);
      assert.ok(stored);
      assert.equal(
        restored.ctx.box.open(oidcOf(stored).clientSecretSealed, `connection:${connection.id}`),
        "gatehouse-okta-secret",
      );
    } finally {
      await restored.close();
    }
  });
});
