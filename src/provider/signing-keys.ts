import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import type { AppContext } from "../server/context.js";
import {
  insertSigningKey,
  listPublishedSigningKeys,
  retireSigningKeys,
  type StoredSigningKey,
} from "../store/provider-signing-keys.js";

const ALG = "RS256";
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface KeySet {
  /** Private JWKs, the one that signs now first: oidc-provider signs with the first key that fits. */
  keys: JWK[];
  /** The kid that signs now. */
  signingKid: string;
  /** When a published key starts signing, so the provider is rebuilt then; undefined if none is pending. */
  nextSwitchAt: number | undefined;
}

async function generate(ctx: AppContext, signsFrom: number): Promise<StoredSigningKey> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const now = ctx.now();
  return {
    kid,
    alg: ALG,
    privateJwkSealed: ctx.box.seal(JSON.stringify({ ...jwk, kid, alg: ALG, use: "sig" }), sealContext(kid)),
    createdAt: now,
    signsFrom,
  };
}

function sealContext(kid: string): string {
  return `provider-signing-key:${kid}`;
}

/**
 * The first start has no key: make one that signs at once. Two instances racing both add one;
 * the newest wins everywhere once each has reloaded, and both are published meanwhile.
 */
export async function ensureSigningKey(ctx: AppContext): Promise<void> {
  const published = await listPublishedSigningKeys(ctx.store.db);
  if (published.some((key) => key.signsFrom <= ctx.now())) return;
  await insertSigningKey(ctx.store.db, await generate(ctx, ctx.now()));
  ctx.log.info("generated the OpenID Provider's first signing key");
}

/**
 * Adds a key that is published at once and signs only after `overlapMs`, so relying parties
 * that cached the key set have refreshed it before they meet a token signed with the new key.
 * Keys that stopped signing more than an overlap ago are retired (no longer published).
 */
export async function rotateSigningKey(
  ctx: AppContext,
  overlapMs = DEFAULT_ROTATION_OVERLAP_MS,
): Promise<{ kid: string; signsFrom: number; retired: string[] }> {
  // Before the first start there is no key yet: the rotated one must not be the only one.
  await ensureSigningKey(ctx);
  const now = ctx.now();
  const created = await generate(ctx, now + overlapMs);
  const published = await listPublishedSigningKeys(ctx.store.db);
  // Newest first: a key is retired once a younger key has signed for longer than the overlap.
  const retired: string[] = [];
  let successorSignedSince: number | undefined;
  for (const key of published) {
    if (successorSignedSince !== undefined && successorSignedSince <= now - overlapMs) retired.push(key.kid);
    if (key.signsFrom <= now)
      successorSignedSince = Math.min(successorSignedSince ?? key.signsFrom, key.signsFrom);
  }
  await ctx.store.db.transaction().execute(async (trx) => {
    await insertSigningKey(trx, created);
    await retireSigningKeys(trx, retired, now);
  });
  return { kid: created.kid, signsFrom: created.signsFrom, retired };
}

export async function loadKeySet(ctx: AppContext): Promise<KeySet> {
  const now = ctx.now();
  const published = await listPublishedSigningKeys(ctx.store.db);
  const signing = published.find((key) => key.signsFrom <= now);
  if (!signing) throw new Error("the OpenID Provider has no signing key that may sign yet");
  const ordered = [signing, ...published.filter((key) => key !== signing)];
  const pending = published.filter((key) => key.signsFrom > now).map((key) => key.signsFrom);
  return {
    keys: ordered.map((key) => JSON.parse(ctx.box.open(key.privateJwkSealed, sealContext(key.kid))) as JWK),
    signingKid: signing.kid,
    nextSwitchAt: pending.length > 0 ? Math.min(...pending) : undefined,
  };
}
