import * as jose from "jose";

/**
 * The key pair a connection signs its `private_key_jwt` client assertions with (RFC 7523).
 * The private JWK is sealed in the database like a client secret; the public half is published
 * at the connection's JWKS URL for the IdP to fetch.
 */
export const CLIENT_ASSERTION_ALG = "RS256";

export interface GeneratedKey {
  privateJwk: jose.JWK;
  kid: string;
}

export async function generateSigningKey(): Promise<GeneratedKey> {
  const { privateKey } = await jose.generateKeyPair(CLIENT_ASSERTION_ALG, {
    extractable: true,
    modulusLength: 2048,
  });
  const privateJwk = await jose.exportJWK(privateKey);
  const kid = await jose.calculateJwkThumbprint(privateJwk);
  return { privateJwk: { ...privateJwk, kid, alg: CLIENT_ASSERTION_ALG, use: "sig" }, kid };
}

/** The public half of an RSA private JWK: only the members RFC 7518 6.3.1 defines for it. */
export function publicJwk(privateJwk: jose.JWK): jose.JWK {
  const { kty, n, e, kid, alg, use } = privateJwk;
  if (kty !== "RSA" || !n || !e) throw new Error("not an RSA private key");
  return { kty, n, e, ...(kid ? { kid } : {}), alg: alg ?? CLIENT_ASSERTION_ALG, use: use ?? "sig" };
}
