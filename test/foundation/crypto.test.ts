import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { ConfigError } from "../../src/config.js";
import { hashPassword, passwordWeakness, verifyPassword } from "../../src/crypto/password.js";
import { SecretBox } from "../../src/crypto/secret-box.js";
import { parseSecretKey, type SecretKey } from "../../src/crypto/secret-key.js";
import { hashToken, newTraceId, randomBytesFromPool, randomToken } from "../../src/crypto/tokens.js";

function newKey(): SecretKey {
  return parseSecretKey(randomBytes(32).toString("base64"));
}

/** Replaces one base64url part of a sealed value with a variant differing in one bit. */
function flipBit(sealed: string, part: number): string {
  const parts = sealed.split(".");
  const bytes = Buffer.from(parts[part] ?? "", "base64url");
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("SecretBox", () => {
  const key = newKey();
  const box = new SecretBox(key);
  const secret = "client-secret-Ünïcode-🔑-0123456789";

  test("a sealed value opens to the original", () => {
    const sealed = box.seal(secret, "connection:1");
    assert.equal(box.open(sealed, "connection:1"), secret);
    assert.equal(box.open(box.seal("", "empty"), "empty"), "");
  });

  test("the sealed form names its key and hides the plaintext", () => {
    const sealed = box.seal(secret, "connection:1");
    const [version, kid] = sealed.split(".");
    assert.equal(version, "v1");
    assert.equal(kid, key.id);
    assert.equal(box.currentKeyId, key.id);
    assert.ok(!sealed.includes(secret));
    assert.ok(!sealed.includes(Buffer.from(secret).toString("base64url")));
  });

  test("sealing the same value twice gives different ciphertexts (fresh IV)", () => {
    assert.notEqual(box.seal(secret, "c"), box.seal(secret, "c"));
  });

  test("every IV is new and 96 bits long, across many refills of the random pool", () => {
    const ivs = new Set<string>();
    // 5,000 values of 12 bytes and tokens between them: the IVs straddle where pool fills end.
    for (let i = 0; i < 5_000; i++) {
      const iv = box.seal(secret, "c").split(".")[2] ?? "";
      assert.equal(Buffer.from(iv, "base64url").length, 12);
      assert.ok(!ivs.has(iv), "an IV was used twice");
      ivs.add(iv);
      if (i % 3 === 0) randomToken(29);
    }
  });

  test("a tampered ciphertext, IV or tag does not open", () => {
    const sealed = box.seal(secret, "connection:1");
    for (const part of [2, 3, 4]) {
      assert.throws(() => box.open(flipBit(sealed, part), "connection:1"), `part ${part}`);
    }
  });

  test("a truncated or malformed value does not open", () => {
    const sealed = box.seal(secret, "connection:1");
    for (const bad of ["", "v1", sealed.split(".").slice(0, 4).join("."), `v2${sealed.slice(2)}`, "plain"]) {
      assert.throws(() => box.open(bad, "connection:1"), JSON.stringify(bad));
    }
  });

  test("a value does not open under another context (moved to another row)", () => {
    const sealed = box.seal(secret, "connection:1");
    assert.throws(() => box.open(sealed, "connection:2"));
  });

  test("a value sealed with an unknown key id does not open", () => {
    const other = new SecretBox(newKey());
    assert.throws(() => box.open(other.seal(secret, "c"), "c"));
  });

  test("a key id rewritten to the current key does not open", () => {
    const other = new SecretBox(newKey());
    const parts = other.seal(secret, "c").split(".");
    parts[1] = key.id;
    assert.throws(() => box.open(parts.join("."), "c"));
  });

  test("rotation: a value sealed with an old key opens when that key is passed as previous", () => {
    const oldKey = newKey();
    const sealedEarlier = new SecretBox(oldKey).seal(secret, "connection:1");
    const rotated = new SecretBox(newKey(), [oldKey]);
    assert.equal(rotated.open(sealedEarlier, "connection:1"), secret);
    const resealed = rotated.seal(secret, "connection:1");
    assert.notEqual(resealed.split(".")[1], oldKey.id, "new values use the current key");
    assert.throws(
      () => new SecretBox(newKey()).open(sealedEarlier, "connection:1"),
      "not without the old key",
    );
  });
});

describe("parseSecretKey", () => {
  test("accepts 32 bytes of base64 and derives a stable key id", () => {
    const encoded = randomBytes(32).toString("base64");
    assert.equal(parseSecretKey(encoded).id, parseSecretKey(`${encoded}\n`).id);
  });

  for (const bad of ["", "short", randomBytes(16).toString("base64"), randomBytes(33).toString("base64")]) {
    test(`refuses ${JSON.stringify(bad).slice(0, 20)}`, () => {
      assert.throws(() => parseSecretKey(bad), ConfigError);
    });
  }

  test("the key id does not reveal the key", () => {
    const encoded = randomBytes(32).toString("base64");
    const id = parseSecretKey(encoded).id;
    assert.ok(!encoded.includes(id));
  });
});

describe("passwordWeakness", () => {
  const cases: [password: string, email: string | undefined, weak: boolean][] = [
    ["correct horse battery", undefined, false],
    ["correct horse battery", "admin@acme.test", false],
    ["Tr0ub4dor&3xyz", "alice@acme.test", false],
    ["", undefined, true],
    ["short", undefined, true],
    ["elevenchars", undefined, true],
    ["twelve chars", undefined, false],
    ["aaaaaaaaaaaaaaaa", undefined, true],
    ["abababababababab", undefined, true],
    ["abcdabcdabcdabcd", undefined, true],
    ["abcdeabcdeabcde", undefined, false],
    ["x".repeat(257), undefined, true],
    [`${"abcdefghij".repeat(25)}abcdef`, undefined, false],
    ["my name is alice, ok", "alice@acme.test", true],
    ["My Name Is ALICE ok", "alice@acme.test", true],
    ["my name is alice, ok", "bob@acme.test", false],
  ];
  for (const [password, email, weak] of cases) {
    test(`${JSON.stringify(password).slice(0, 30)} for ${email ?? "no email"}: ${weak ? "weak" : "accepted"}`, () => {
      const reason = passwordWeakness(password, email);
      if (weak) assert.equal(typeof reason, "string");
      else assert.equal(reason, undefined);
    });
  }
});

describe("password hashing", () => {
  test("argon2id hashes verify the right password only, and never contain it", async () => {
    const hash = await hashPassword("correct horse battery");
    assert.match(hash, /^\$argon2id\$/);
    assert.ok(!hash.includes("correct horse battery"));
    assert.equal(await verifyPassword(hash, "correct horse battery"), true);
    assert.equal(await verifyPassword(hash, "correct horse batterY"), false);
    assert.equal(await verifyPassword("not a hash", "anything"), false);
  });
});

describe("hashToken", () => {
  test("is SHA-256 in base64url, the hash every stored session id, key and handle was written with", () => {
    // Fixed vectors: rows written by earlier versions must still be found.
    assert.equal(hashToken("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    assert.equal(hashToken(""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    const token = randomBytes(32).toString("base64url");
    assert.equal(hashToken(token), createHash("sha256").update(token).digest("base64url"));
  });
});

describe("randomToken", () => {
  test("every token is new, of its full length, across many refills of the pool", () => {
    const seen = new Set<string>();
    // 20,000 tokens of 32 bytes: about 160 refills of a 4 KiB pool, with odd sizes between them
    // so that tokens straddle where one fill ends.
    for (let i = 0; i < 20_000; i++) {
      const token = randomToken();
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!seen.has(token), "a token was handed out twice");
      seen.add(token);
      if (i % 7 === 0) assert.match(randomToken(13), /^[A-Za-z0-9_-]{18}$/);
      if (i % 11 === 0) assert.match(newTraceId(), /^[0-9A-F]{10}$/);
    }
  });

  test("the bytes are uniform: each bit of a token is set about half the time", () => {
    const counts = new Array<number>(256).fill(0);
    const tokens = 20_000;
    for (let i = 0; i < tokens; i++) {
      const bytes = Buffer.from(randomToken(), "base64url");
      for (let bit = 0; bit < 256; bit++) counts[bit]! += (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    // Binomial(20,000, 1/2): a standard deviation of about 71; 6 of them either side.
    for (const count of counts) assert.ok(Math.abs(count - tokens / 2) < 425, `a bit was set ${count} times`);
  });

  test("sizes beyond the pool's share come straight from the generator", () => {
    const token = randomToken(1024);
    assert.equal(Buffer.from(token, "base64url").length, 1024);
    assert.notEqual(token, randomToken(1024));
    const bytes = randomBytesFromPool(1024);
    assert.equal(bytes.length, 1024);
    assert.notDeepEqual(bytes, randomBytesFromPool(1024));
  });

  test("bytes from the pool are a copy: what the pool hands out next cannot change them", () => {
    const first = randomBytesFromPool(16);
    const kept = Buffer.from(first);
    for (let i = 0; i < 1_000; i++) randomBytesFromPool(16);
    assert.deepEqual(first, kept);
    assert.notDeepEqual(first, Buffer.alloc(16), "not the wiped zeros");
  });
});
