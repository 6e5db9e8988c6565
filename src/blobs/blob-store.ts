// Attachment bytes behind one interface: a directory (file.ts) or an S3-compatible bucket (s3.ts).
// Keys are ours (`<tenant_id>/<attachment_id>`), never a user-supplied name.
import type { AttachmentsStoreConfig } from "../config";

/** An inclusive byte range of a blob. */
export interface BlobRange {
  start: number;
  end: number;
}

/** Where attachment files live. Every method is safe to call for an absent key. */
export interface BlobStore {
  readonly kind: "file" | "s3";
  /** Where it is, without credentials (for logs and docs). */
  readonly location: string;
  /**
   * Writes every chunk of `chunks` under `key`. When `chunks` throws (an upload over its limit, a
   * dropped client) or the write fails, nothing stays under `key` and the error is rethrown.
   */
  put(key: string, chunks: AsyncIterable<Uint8Array>, contentType: string): Promise<void>;
  /**
   * The bytes of `key` (or of `range` in it); null when absent. A Blob when its size is known to the
   * HTTP server (it then sends Content-Length), else a stream.
   */
  get(key: string, range?: BlobRange): Promise<Blob | ReadableStream<Uint8Array> | null>;
  /** Whether `key` exists. */
  exists(key: string): Promise<boolean>;
  /** Deletes `key`; absent is fine. */
  delete(key: string): Promise<void>;
}

// Our keys: segments of letters, digits, `-` and `_`, joined by `/`. Anything else is a bug, not input.
const KEY = /^[A-Za-z0-9_-]{1,128}(\/[A-Za-z0-9_-]{1,128}){0,3}$/;

/** Throws unless `key` is one of ours (no `..`, no absolute path, no separators but `/`). */
export function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  return key;
}

/** Opens the configured blob store. */
export async function openBlobStore(c: AttachmentsStoreConfig): Promise<BlobStore> {
  if (c.kind === "file") {
    const { FileBlobStore } = await import("./file");
    return new FileBlobStore(c.dir);
  }
  const { S3BlobStore } = await import("./s3");
  return new S3BlobStore(c);
}
