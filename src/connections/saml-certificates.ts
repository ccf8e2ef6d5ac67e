import { X509Certificate } from "node:crypto";

/** What an admin checks about a certificate: which one it is, and until when it is valid. */
export interface CertificateFacts {
  /** SHA-256 fingerprint, colon-separated hex, as IdP consoles show it. */
  fingerprint256: string;
  subject: string;
  notAfter: string;
  /** Past its date: IdPs stop signing with it, and its rollover is due. */
  expired: boolean;
  /** Within 30 days of its date: time to add the next one. */
  expiresSoon: boolean;
}

const SOON_MS = 30 * 86_400_000;

export function certificateFacts(pem: string, now: number): CertificateFacts | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    // Stored certificates were read at setup; one that cannot be read now is shown as missing.
    return undefined;
  }
  const notAfter = new Date(certificate.validTo);
  return {
    fingerprint256: certificate.fingerprint256,
    subject: certificate.subject.replace(/\n/g, ", "),
    notAfter: notAfter.toISOString(),
    expired: notAfter.getTime() <= now,
    expiresSoon: notAfter.getTime() > now && notAfter.getTime() - now < SOON_MS,
  };
}
