import { sql } from "kysely";
import { testSecretContext } from "../connections/test.js";
import { applicationSecretContext } from "../provider/adapter.js";
import type { AppContext } from "../server/context.js";
import { insertAuditEvent } from "../store/audit.js";
import { idempotencyContext } from "../store/idempotency-keys.js";
import { sessionIdpContext, sessionIdTokenContext } from "../store/sessions.js";

/** A column that holds values sealed with the secret box, and the context each row's value is bound to. */
export interface SealedColumn {
  table: string;
  /** The column that identifies the row (and names it in the context). */
  key: string;
  column: string;
  context: (key: string) => string;
}

/**
 * Every sealed value in the database. A new sealed column belongs here, or a rotation would
 * leave it under the old key; test/rotate-secret-key.test.ts checks that every `*_sealed`
 * column of the schema is listed.
 */
export const SEALED_COLUMNS: SealedColumn[] = [
  {
    table: "connection_oidc",
    key: "connection_id",
    column: "client_secret_sealed",
    context: (id) => `connection:${id}`,
  },
  {
    table: "connection_oidc",
    key: "connection_id",
    column: "signing_key_sealed",
    context: (id) => `connection-key:${id}`,
  },
  {
    table: "applications",
    key: "client_id",
    column: "client_secret_sealed",
    context: applicationSecretContext,
  },
  {
    table: "connection_saml",
    key: "connection_id",
    column: "sp_private_key_sealed",
    context: (id) => `connection-saml-key:${id}`,
  },
  // A test sign-in's unsaved client secret, for its 10 minutes.
  {
    table: "connection_tests",
    key: "id",
    column: "client_secret_sealed",
    context: testSecretContext,
  },
  {
    table: "provider_signing_keys",
    key: "kid",
    column: "private_jwk_sealed",
    context: (kid) => `provider-signing-key:${kid}`,
  },
  { table: "idempotency_keys", key: "id", column: "response_sealed", context: idempotencyContext },
  { table: "sessions", key: "id_hash", column: "id_token_sealed", context: sessionIdTokenContext },
  { table: "sessions", key: "id_hash", column: "idp_session_sealed", context: sessionIdpContext },
];

export interface RotationReport {
  /** Values re-sealed under the current key. */
  resealed: number;
  /** Values already under the current key. */
  current: number;
  keyId: string;
}

/**
 * Re-seals every sealed value under the current GATEHOUSE_SECRET_KEY, in one transaction: either
 * every value moves to the new key or none does. Old values open with GATEHOUSE_PREVIOUS_SECRET_KEYS;
 * afterwards the previous keys are needed only to accept cookies signed before the rotation,
 * until those expire (the session lifetime).
 */
export async function rotateSecretKey(ctx: AppContext): Promise<RotationReport> {
  const keyId = ctx.box.currentKeyId;
  const now = ctx.now();
  return ctx.store.db.transaction().execute(async (trx) => {
    let resealed = 0;
    let current = 0;
    for (const { table, key, column, context } of SEALED_COLUMNS) {
      const { rows } = await sql<{ key: string; value: string }>`select ${sql.ref(key)} as key, ${sql.ref(
        column,
      )} as value from ${sql.table(table)} where ${sql.ref(column)} is not null`.execute(trx);
      for (const row of rows) {
        if (row.value.split(".")[1] === keyId) {
          current++;
          continue;
        }
        // Opening checks the tag: a value that does not open stops the rotation and rolls it back.
        const plaintext = ctx.box.open(row.value, context(row.key));
        const sealed = ctx.box.seal(plaintext, context(row.key));
        await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${sealed} where ${sql.ref(key)} = ${row.key}`.execute(
          trx,
        );
        resealed++;
      }
    }
    await insertAuditEvent(
      trx,
      { type: "secret_key.rotated", outcome: "success", detail: { keyId, resealed } },
      now,
    );
    return { resealed, current, keyId };
  });
}
