// The BlobStore contract against the file store and a real S3-compatible server (s3rver).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "../../src/blobs/blob-store";
import { FileBlobStore } from "../../src/blobs/file";
import { S3BlobStore } from "../../src/blobs/s3";
import { S3_KEYS, startS3, type TestS3 } from "../support/s3";

async function* chunksOf(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function bytes(s: Blob | ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (!s) throw new Error("absent");
  return new Uint8Array(await new Response(s).arrayBuffer());
}

function blobContract(name: string, make: () => BlobStore) {
  describe(`blob store: ${name}`, () => {
    test("put, get, ranges, exists, delete; absent keys", async () => {
      const b = make();
      const data = crypto.getRandomValues(new Uint8Array(300_000));
      await b.put("t1/a1", chunksOf(data, 65_536), "image/png");
      expect(await b.exists("t1/a1")).toBe(true);
      expect(await bytes(await b.get("t1/a1"))).toEqual(data);
      expect(await bytes(await b.get("t1/a1", { start: 10, end: 19 }))).toEqual(data.subarray(10, 20));
      expect(await bytes(await b.get("t1/a1", { start: 299_990, end: 299_999 }))).toEqual(data.subarray(299_990));
      await b.delete("t1/a1");
      expect(await b.exists("t1/a1")).toBe(false);
      expect(await b.get("t1/a1")).toBeNull();
      await b.delete("t1/never");
    });

    test("a source that fails midway leaves nothing under the key", async () => {
      const b = make();
      async function* failing(): AsyncIterable<Uint8Array> {
        yield new Uint8Array(1000);
        throw new Error("client went away");
      }
      expect(await b.put("t1/broken", failing(), "text/plain").catch((e) => e.message)).toBe("client went away");
      expect(await b.exists("t1/broken")).toBe(false);
    });

    test("multipart-sized uploads (over 5 MiB) round-trip", async () => {
      const b = make();
      const data = crypto.getRandomValues(new Uint8Array(65_536));
      const big = new Uint8Array(6 * 1024 * 1024);
      for (let i = 0; i < big.length; i += data.length) big.set(data, i);
      await b.put("t1/big", chunksOf(big, 256 * 1024), "application/octet-stream");
      const back = await bytes(await b.get("t1/big"));
      expect(back.length).toBe(big.length);
      expect(Bun.hash(back)).toBe(Bun.hash(big));
    }, 60_000);

    test("keys that are not ours are refused (no path traversal)", async () => {
      const b = make();
      for (const k of ["../x", "/etc/passwd", "t1/../../x", "a\\b", "t1/a b", ""]) {
        expect(await b.put(k, chunksOf(new Uint8Array(1), 1), "text/plain").catch((e) => e.message)).toMatch(/invalid blob key/);
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "chatapi-blobs-"));
blobContract("file", () => new FileBlobStore(join(dir, "attachments")));

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});
blobContract("s3 (s3rver)", () => new S3BlobStore({ kind: "s3", bucket: s3.bucket, prefix: "pre/", endpoint: s3.endpoint, region: "us-east-1", ...S3_KEYS }));

describe("file store modes", () => {
  test("directories 0700, files 0600, named by key", async () => {
    const root = join(dir, "modes");
    const b = new FileBlobStore(root);
    await b.put("t9/f1", chunksOf(new Uint8Array(5), 5), "text/plain");
    expect(statSync(root).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, "t9")).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, "t9", "f1")).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, "t9"))).toEqual(["f1"]);
  });
});
