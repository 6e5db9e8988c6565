// Blobs in a directory: `<dir>/<tenant>/<attachment>`; directories 0700, files 0600. A write goes to a
// temporary name first and is renamed into place, so a reader never sees half a file.
import { chmodSync, mkdirSync } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { checkKey, type BlobRange, type BlobStore } from "./blob-store";

/** BlobStore on the local filesystem (or a directory every node shares). */
export class FileBlobStore implements BlobStore {
  readonly kind = "file" as const;
  readonly location: string;

  constructor(private readonly dir: string) {
    this.location = `file:${dir}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir applies the umask; chmod pins the exact mode of the top directory.
    chmodSync(dir, 0o700);
  }

  private path(key: string): string {
    return join(this.dir, checkKey(key));
  }

  async put(key: string, chunks: AsyncIterable<Uint8Array>, _contentType?: string): Promise<void> {
    const final = this.path(key);
    mkdirSync(dirname(final), { recursive: true, mode: 0o700 });
    chmodSync(dirname(final), 0o700);
    const tmp = `${final}.${Bun.randomUUIDv7()}.part`;
    const fh = await open(tmp, "wx", 0o600);
    try {
      for await (const chunk of chunks) await fh.write(chunk);
      await fh.sync();
      await fh.close();
      await rename(tmp, final);
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: BlobRange): Promise<Blob | null> {
    const path = this.path(key);
    if (!(await this.exists(key))) return null;
    const file = Bun.file(path);
    // A BunFile (slice) is sent with sendfile and its exact Content-Length.
    return range ? file.slice(range.start, range.end + 1) : file;
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
