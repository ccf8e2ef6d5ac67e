import { createSign, generateKeyPair, randomBytes, X509Certificate } from "node:crypto";
import { promisify } from "node:util";

/**
 * The key pair a SAML connection signs its AuthnRequests with and that the IdP encrypts
 * assertions to. One per connection, so that one customer's IdP never holds a key another
 * customer's assertions are encrypted to. The certificate is self-signed: SAML metadata
 * trusts keys by configuration, not through a CA (SAML metadata 2.4.1.1 KeyDescriptor).
 */
export interface SpKeyPair {
  /** PKCS#8 PEM. A secret: sealed at rest like a client secret, never logged or returned. */
  privateKeyPem: string;
  /** X.509 PEM, published in the SP metadata. */
  certificatePem: string;
}

const generateRsa = promisify(generateKeyPair);

export async function generateSpKeyPair(options: {
  commonName: string;
  now?: Date;
  validityDays?: number;
  /** 2048 unless a test needs a key short enough to be refused. */
  modulusLength?: number;
}): Promise<SpKeyPair> {
  const { publicKey, privateKey } = await generateRsa("rsa", {
    modulusLength: options.modulusLength ?? 2048,
  });
  const notBefore = new Date((options.now ?? new Date()).getTime() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (options.validityDays ?? 3650) * 86_400_000);
  const name = der(0x30, der(0x31, der(0x30, oid("2.5.4.3"), der(0x0c, Buffer.from(options.commonName)))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    SHA256_WITH_RSA,
    name,
    der(0x30, time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = createSign("sha256").update(tbs).sign(privateKey);
  const certificate = der(
    0x30,
    tbs,
    SHA256_WITH_RSA,
    der(0x03, Buffer.concat([Buffer.from([0]), signature])),
  );
  const certificatePem = toPem("CERTIFICATE", certificate);
  // A certificate we cannot read back is a bug here, not something to publish.
  new X509Certificate(certificatePem);
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    certificatePem,
  };
}

export function toPem(label: string, body: Buffer): string {
  const base64 = body.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${base64.replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

const SHA256_WITH_RSA = der(0x30, oid("1.2.840.113549.1.1.11"), der(0x05, Buffer.alloc(0)));

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  let length: Buffer;
  if (body.length < 0x80) {
    length = Buffer.from([body.length]);
  } else {
    const bytes: number[] = [];
    for (let n = body.length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const group = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) group.unshift((n & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return der(0x06, Buffer.from(bytes));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : der(0x18, Buffer.from(`${iso}Z`));
}
