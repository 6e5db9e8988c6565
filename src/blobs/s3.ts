// Blobs in an S3-compatible bucket (AWS, MinIO, R2) through Bun.S3Client: `<prefix><tenant>/<attachment>`.
// Uploads stream (multipart above 5 MiB); reads of a range are S3 Range requests.
import { S3Client } from "bun";
import type { AttachmentsStoreConfig } from "../config";
import { checkKey, type BlobRange, type BlobStore } from "./blob-store";

const PART_BYTES = 5 * 1024 * 1024;
// Bun.serve drops the Content-Length of a streamed body (oven-sh/bun#10507): reads up to this size are
// fetched whole so the response carries it; larger ones stream (chunked, without Content-Length).
export const S3_BUFFERED_READ_BYTES = 8 * 1024 * 1024;

/** BlobStore on Bun.S3Client. */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  readonly location: string;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(c: Extract<AttachmentsStoreConfig, { kind: "s3" }>) {
    this.prefix = c.prefix;
    this.location = `s3://${c.bucket}/${c.prefix}${c.endpoint ? ` at ${c.endpoint}` : ""}`;
    this.client = new S3Client({
      bucket: c.bucket,
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(c.region ? { region: c.region } : {}),
      ...(c.accessKeyId ? { accessKeyId: c.accessKeyId } : {}),
      ...(c.secretAccessKey ? { secretAccessKey: c.secretAccessKey } : {}),
    });
  }

  private file(key: string) {
    return this.client.file(this.prefix + checkKey(key));
  }

  async put(key: string, chunks: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    const writer = this.file(key).writer({ type: contentType, partSize: PART_BYTES, retry: 1 });
    let buffered = 0;
    try {
      for await (const chunk of chunks) {
        writer.write(chunk);
        buffered += chunk.byteLength;
        // Hand full parts to the upload as they fill, so memory holds about one part per upload.
        if (buffered >= PART_BYTES) {
          await writer.flush();
          buffered = 0;
        }
      }
      await writer.end();
    } catch (err) {
      // Nothing may stay under the key: a small upload never started; a multipart one may have.
      await Promise.resolve(writer.end()).catch(() => {});
      await this.delete(key).catch(() => {});
      throw err;
    }
  }

  async get(key: string, range?: BlobRange): Promise<Blob | ReadableStream<Uint8Array> | null> {
    const f = this.file(key);
    let size: number;
    try {
      size = range ? range.end - range.start + 1 : (await f.stat()).size;
    } catch (err) {
      if ((err as { code?: string }).code === "NoSuchKey" || /not ?found|NoSuchKey/i.test(String(err))) return null;
      throw err;
    }
    const part = range ? f.slice(range.start, range.end + 1) : f;
    if (size <= S3_BUFFERED_READ_BYTES) {
      try {
        return new Blob([await part.bytes()]);
      } catch (err) {
        if ((err as { code?: string }).code === "NoSuchKey" || /NoSuchKey/i.test(String(err))) return null;
        throw err;
      }
    }
    return part.stream();
  }

  async exists(key: string): Promise<boolean> {
    return this.file(key).exists();
  }

  async delete(key: string): Promise<void> {
    await this.file(key).delete();
  }
}
