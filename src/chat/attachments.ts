// Attachments (docs/reference/rest.md "Attachments"): streamed uploads with size and quota limits, download checks,
// the link to a message at send time, deletion with the message, and the orphan sweep.
import type { BlobStore } from "../blobs/blob-store";
import type { AttachmentUrls } from "../blobs/url-signer";
import { AppError, forbidden, invalid, notFound } from "../errors";
import type { Logger } from "../log";
import type { AttachmentRow, StoredAttachment } from "../storage/attachment-store";
import type { Store, Tx } from "../storage/store";
import { storedAttachment, toAttachment } from "./mappers";
import type { RoomService } from "./rooms";
import type { Actor, Attachment } from "./types";

export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
const MAX_FILENAME_CHARS = 255;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\p{Cc}]/u;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const ORPHAN_BATCH = 100;

/** One file part as the HTTP layer hands it over: its name, declared type, and its bytes as they arrive. */
export interface UploadPart {
  filename: string;
  contentType: string;
  chunks: AsyncIterable<Uint8Array>;
}

export interface AttachmentServiceDeps {
  store: Store;
  blobs: BlobStore;
  urls: AttachmentUrls;
  rooms: RoomService;
  log: Logger;
  orphanTtlMs: number;
  now?: () => Date;
}

/** The filename rule: the part's name without any directory, 1..255 characters, no control characters. */
export function checkFilename(raw: string): string {
  const name = raw.split(/[\\/]/).pop() ?? "";
  const n = [...name].length;
  if (n < 1 || n > MAX_FILENAME_CHARS || CONTROL.test(name) || name === "." || name === ".." || !name.isWellFormed()) {
    throw invalid(`filename must be 1..${MAX_FILENAME_CHARS} characters without control characters or directories`, [{ path: "/file/filename", message: "invalid filename" }]);
  }
  return name;
}

/** The stored media type: the part's `type/subtype` lowercased, without parameters; anything else is application/octet-stream. */
export function normalizeContentType(raw: string): string {
  const t = raw.split(";")[0]!.trim().toLowerCase();
  return MEDIA_TYPE.test(t) ? t : "application/octet-stream";
}

class TooLarge extends Error {}

/** Attachment operations shared by REST and WebSocket sends. */
export class AttachmentService {
  private readonly now: () => Date;

  constructor(private readonly d: AttachmentServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  get urls(): AttachmentUrls {
    return this.d.urls;
  }

  /** Members only. Streams the part into the blob store under a fresh id, then records it within the tenant's quota. */
  async upload(actor: Actor, roomId: string, part: UploadPart): Promise<Attachment> {
    const tenant = actor.tenant;
    await this.d.rooms.memberOf(actor, roomId);
    const filename = checkFilename(part.filename);
    const contentType = normalizeContentType(part.contentType);
    const max = tenant.config.max_attachment_bytes;
    const quota = tenant.config.attachment_quota_bytes;
    // Cheap early refusal; the authoritative check is the insert below.
    if ((await this.d.store.attachments.usage(tenant.id)) >= quota && quota >= 0) throw quotaError(quota);
    const id = Bun.randomUUIDv7();
    const key = `${tenant.id}/${id}`;
    const hasher = new Bun.CryptoHasher("sha256");
    let size = 0;
    async function* counted(): AsyncIterable<Uint8Array> {
      for await (const chunk of part.chunks) {
        size += chunk.byteLength;
        if (size > max) throw new TooLarge();
        hasher.update(chunk);
        yield chunk;
      }
    }
    try {
      await this.d.blobs.put(key, counted(), contentType);
    } catch (err) {
      if (err instanceof TooLarge) throw new AppError("payload_too_large", `attachment over ${max} bytes (max_attachment_bytes)`);
      throw err;
    }
    const row: AttachmentRow = {
      tenant_id: tenant.id,
      attachment_id: id,
      room_id: roomId,
      uploader_id: actor.userId,
      filename,
      content_type: contentType,
      size,
      sha256: hasher.digest("hex"),
      created_at: this.now().toISOString(),
      message_id: null,
      blob_key: key,
    };
    let stored = false;
    try {
      if (size === 0) throw invalid("the file is empty (1..max_attachment_bytes bytes)", [{ path: "/file", message: "empty" }]);
      stored = await this.d.store.transaction((tx) => tx.attachments.insert(row, quota));
      if (!stored) throw quotaError(quota);
    } finally {
      if (!stored) await this.d.blobs.delete(key).catch((err) => this.d.log.warn({ err: String(err), attachment_id: id }, "could not delete a refused upload's blob"));
    }
    return toAttachment(row, this.d.urls);
  }

  /**
   * Inside the send transaction: each id must name an attachment the sender uploaded to this room
   * and that no message holds yet; links them to `messageId`. Returns their metadata in the given order.
   */
  async attachToMessage(tx: Tx, actor: Actor, roomId: string, ids: readonly string[], messageId: string): Promise<StoredAttachment[]> {
    if (new Set(ids).size !== ids.length) throw invalid("attachments must be distinct", [{ path: "/attachments", message: "repeated id" }]);
    const out: StoredAttachment[] = [];
    for (const [i, id] of ids.entries()) {
      const a = await tx.attachments.get(actor.tenant.id, id);
      if (!a || a.uploader_id !== actor.userId || a.room_id !== roomId || a.message_id !== null) {
        throw invalid("each attachment must be an upload of the sender to this room that no message holds yet", [{ path: `/attachments/${i}`, message: "not attachable" }]);
      }
      out.push(storedAttachment(a));
    }
    if ((await tx.attachments.attach(actor.tenant.id, ids, messageId)) !== ids.length) {
      throw invalid("an attachment was attached to another message meanwhile", [{ path: "/attachments", message: "not attachable" }]);
    }
    return out;
  }

  /** Inside the delete transaction: drops the message's records; their blobs go after the commit. */
  async messageDeleted(tx: Tx, tenantId: string, messageId: string): Promise<void> {
    const rows = await tx.attachments.removeForMessage(tenantId, messageId);
    if (rows.length) tx.afterCommit(() => void this.deleteBlobs(rows));
  }

  /**
   * A download by a caller of the tenant: a member of the room (any tenant user for a channel);
   * an upload not yet sent only to its uploader.
   */
  async forCaller(actor: Actor, attachmentId: string): Promise<AttachmentRow> {
    const a = await this.d.store.attachments.get(actor.tenant.id, attachmentId);
    if (!a) throw notFound("attachment not found");
    if (a.message_id === null && a.uploader_id !== actor.userId) throw forbidden("this upload is not sent yet");
    try {
      await this.d.rooms.readable(actor, a.room_id);
    } catch (err) {
      if (err instanceof AppError && err.code === "not_found") throw notFound("attachment not found");
      throw err;
    }
    return a;
  }

  /** A download with a signed URL: the record, or 404 when it is gone. The signature was checked by the caller. */
  async bySignedId(attachmentId: string): Promise<AttachmentRow> {
    const a = await this.d.store.attachments.byIdAnyTenant(attachmentId);
    if (!a) throw notFound("attachment not found");
    return a;
  }

  /** The blob of a record (or a range of it); 404 when the file is missing. */
  async open(a: AttachmentRow, range?: { start: number; end: number }): Promise<Blob | ReadableStream<Uint8Array>> {
    const s = await this.d.blobs.get(a.blob_key, range);
    if (!s) throw notFound("attachment file not found");
    return s;
  }

  /** One sweep: uploads never attached within ATTACHMENT_ORPHAN_TTL lose record and file. Returns how many. */
  async sweepOrphans(): Promise<number> {
    const before = new Date(this.now().getTime() - this.d.orphanTtlMs).toISOString();
    let total = 0;
    for (;;) {
      const batch = await this.d.store.attachments.orphans(before, ORPHAN_BATCH);
      for (const a of batch) {
        // Record first: a send that attaches it in between wins (then remove finds it attached and keeps it).
        const gone = await this.d.store.transaction(async (tx) => {
          const cur = await tx.attachments.get(a.tenant_id, a.attachment_id);
          if (!cur || cur.message_id !== null) return null;
          return tx.attachments.remove(a.tenant_id, a.attachment_id);
        });
        if (gone) {
          await this.deleteBlobs([gone]);
          total++;
        }
      }
      if (batch.length < ORPHAN_BATCH) break;
    }
    if (total) this.d.log.info({ deleted: total }, "attachments: orphan uploads deleted");
    return total;
  }

  private async deleteBlobs(rows: AttachmentRow[]): Promise<void> {
    for (const r of rows) {
      await this.d.blobs.delete(r.blob_key).catch((err) => this.d.log.error({ err: String(err), attachment_id: r.attachment_id }, "attachment file could not be deleted"));
    }
  }
}

function quotaError(quota: number): AppError {
  return new AppError("payload_too_large", `the tenant's attachments would pass attachment_quota_bytes (${quota})`);
}

