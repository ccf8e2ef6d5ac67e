import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented type for migrations
type AnyDb = Kysely<any>;

/**
 * Login transactions become protocol-neutral (src/sign-in/adapter.ts): `protocol` names the
 * adapter that began the sign-in and `payload` holds what it keeps until the answer (JSON
 * text), instead of the OpenID Connect `nonce` and `code_verifier` columns and the `kind`.
 * Sign-ins in flight across the upgrade keep working: their nonce and verifier move into
 * the payload. Sessions get `idp_session_sealed`, the sealed IdP session handle of protocols
 * other than OpenID Connect (whose ID token keeps its own column), for signing out there.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable("login_transactions")
    .addColumn("protocol", "text", (c) => c.notNull().defaultTo("oidc"))
    .execute();
  await db.schema
    .alterTable("login_transactions")
    .addColumn("payload", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
  await db
    .updateTable("login_transactions")
    .set({ protocol: "linkedin" })
    .where("kind", "=", "linkedin")
    .execute();
  // Only unused sign-ins need their nonce and verifier; used ones stay a day for replay detection.
  const open = await db
    .selectFrom("login_transactions")
    .select(["id", "nonce", "code_verifier"])
    .where("consumed_at", "is", null)
    .execute();
  for (const row of open) {
    await db
      .updateTable("login_transactions")
      .set({ payload: JSON.stringify({ nonce: row.nonce, codeVerifier: row.code_verifier }) })
      .where("id", "=", row.id)
      .execute();
  }
  for (const column of ["kind", "nonce", "code_verifier"]) {
    await db.schema.alterTable("login_transactions").dropColumn(column).execute();
  }
  await db.schema.alterTable("sessions").addColumn("idp_session_sealed", "text").execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("idp_session_sealed").execute();
  await db.schema
    .alterTable("login_transactions")
    .addColumn("kind", "text", (c) => c.notNull().defaultTo("sso"))
    .execute();
  await db.schema
    .alterTable("login_transactions")
    .addColumn("nonce", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("login_transactions")
    .addColumn("code_verifier", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  // Sign-ins of other protocols cannot be finished by the older code: they are dropped.
  await db.deleteFrom("login_transactions").where("protocol", "not in", ["oidc", "linkedin"]).execute();
  const rows = await db.selectFrom("login_transactions").select(["id", "protocol", "payload"]).execute();
  for (const row of rows) {
    const payload = JSON.parse(row.payload) as { nonce?: string; codeVerifier?: string };
    await db
      .updateTable("login_transactions")
      .set({
        kind: row.protocol === "linkedin" ? "linkedin" : "sso",
        nonce: payload.nonce ?? "",
        code_verifier: payload.codeVerifier ?? "",
      })
      .where("id", "=", row.id)
      .execute();
  }
  await db.schema.alterTable("login_transactions").dropColumn("payload").execute();
  await db.schema.alterTable("login_transactions").dropColumn("protocol").execute();
}
