// API keys and tokens: random generation, SHA-256 at rest, constant-time comparison.
import { createHash, timingSafeEqual } from "node:crypto";

/** 32 random bytes from crypto.getRandomValues, base64url (43 chars). */
export function generateSecret(bytes = 32): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Buffer.from(buf).toString("base64url");
}

/** SHA-256 of a key or token as lowercase hex; the only form stored. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab); // same work whatever the length mismatch
    return false;
  }
  return timingSafeEqual(ab, bb);
}
