// multipart/form-data uploads, streamed: busboy parses the request body as it arrives and hands the
// `file` part's bytes on chunk by chunk (nothing holds the whole file in memory).
import Busboy from "busboy";
import { Readable } from "node:stream";
import type { UploadPart } from "../chat/attachments";
import { AppError, invalid } from "../errors";

/** Throws 415 unless the request is multipart/form-data with a boundary. */
export function checkMultipart(req: Request): string {
  const ct = req.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;.*boundary=/is.test(ct)) throw new AppError("unsupported_media_type", "uploads take multipart/form-data with one file part named file");
  return ct;
}

/**
 * Runs `fn` on the request's file part named `file` (other parts are skipped) and returns its result.
 * A body without such a part is a 400; a malformed body a 400. When `fn` fails, the rest of the body
 * is not read.
 */
export function withFilePart<T>(req: Request, fn: (part: UploadPart) => Promise<T>): Promise<T> {
  const contentType = checkMultipart(req);
  if (!req.body) return Promise.reject(invalid("the body has no file part named file", [{ path: "/file", message: "required" }]));
  let bb: Busboy.Busboy;
  try {
    // preservePath false (the default): busboy keeps only the base name of a part's filename.
    // Browsers send filename="..." as raw UTF-8 (busboy would read it as latin1).
    bb = Busboy({ headers: { "content-type": contentType }, defParamCharset: "utf8", limits: { files: 1, fields: 20, fieldSize: 8192, parts: 32, headerPairs: 20 } });
  } catch {
    return Promise.reject(invalid("malformed multipart/form-data header", [{ path: "/headers/content-type", message: "invalid" }]));
  }
  const source = Readable.fromWeb(req.body as any);
  return new Promise<T>((resolve, reject) => {
    let started = false;
    let done = false;
    const finish = (err: unknown, value?: T) => {
      if (done) return;
      done = true;
      if (err !== undefined) {
        source.unpipe(bb);
        source.destroy();
        reject(err);
      } else resolve(value as T);
    };
    bb.on("file", (name, stream, info) => {
      if (name !== "file" || started) {
        stream.resume();
        return;
      }
      started = true;
      fn({ filename: info.filename ?? "", contentType: info.mimeType ?? "application/octet-stream", chunks: stream as AsyncIterable<Uint8Array> }).then(
        (v) => finish(undefined, v),
        (err) => finish(err),
      );
    });
    bb.on("close", () => {
      if (!started) finish(invalid("the body has no file part named file (with a filename)", [{ path: "/file", message: "required" }]));
    });
    bb.on("error", () => finish(invalid("malformed multipart/form-data body", [{ path: "/file", message: "malformed" }])));
    source.on("error", (err) => finish(started ? err : invalid("the upload was interrupted", [{ path: "/file", message: "interrupted" }])));
    source.pipe(bb);
  });
}
