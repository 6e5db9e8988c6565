// The response of a download (docs/reference/rest.md "Attachments"): ETag / If-None-Match, Range (one range),
// nosniff, a sandboxing CSP, and inline only for types a browser cannot run as a document.
import { AppError } from "../errors";
import type { AttachmentRow } from "../storage/attachment-store";
import { contextOf } from "./context";
import { errorResponse } from "./errors";

const INLINE = /^(image\/(png|jpeg|gif|webp)|audio\/[a-z0-9!#$&^_.+-]+|video\/[a-z0-9!#$&^_.+-]+)$/;

/** The served type and disposition: inline allowlist, everything else a download. */
export function servedAs(contentType: string): { type: string; inline: boolean } {
  return INLINE.test(contentType) ? { type: contentType, inline: true } : { type: "application/octet-stream", inline: false };
}

/** A Content-Disposition value whose filename cannot break the header (ASCII fallback plus RFC 5987 filename*). */
export function contentDisposition(inline: boolean, filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\;%]/g, "_").trim() || "file";
  return `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Parses a single `bytes=` range against `size`: the range, "none" (no/ignored header), or "unsatisfiable". */
export function parseRange(header: string | null, size: number): { start: number; end: number } | "none" | "unsatisfiable" {
  if (header === null) return "none";
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or another unit: RFC 9110 lets a server ignore Range and send the whole file.
  if (!m || (m[1] === "" && m[2] === "")) return "none";
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return "none";
  }
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((v) => {
    const x = v.trim();
    return x === "*" || x === etag || x === `W/${etag}`;
  });
}

/** Builds the download response for `row`; `open` streams the bytes (or a range). */
export async function fileResponse(
  request: Request,
  row: AttachmentRow,
  open: (range?: { start: number; end: number }) => Promise<Blob | ReadableStream<Uint8Array>>,
): Promise<Response> {
  const etag = `"${row.sha256}"`;
  const { type, inline } = servedAs(row.content_type);
  const headers = new Headers({
    ETag: etag,
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Content-Disposition": contentDisposition(inline, row.filename),
    "Accept-Ranges": "bytes",
    "Cache-Control": "private, max-age=0, must-revalidate",
  });
  if (matchesEtag(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
  headers.set("Content-Type", type);
  const range = parseRange(request.headers.get("range"), row.size);
  if (range === "unsatisfiable") {
    const res = errorResponse(new AppError("invalid_request", `range not satisfiable (size ${row.size})`), contextOf(request).requestId);
    const out = new Response(res.body, { status: 416, headers: res.headers });
    out.headers.set("Content-Range", `bytes */${row.size}`);
    for (const h of ["X-Content-Type-Options", "Content-Security-Policy"]) out.headers.set(h, headers.get(h)!);
    return out;
  }
  if (range === "none") {
    const body = await open();
    // A Blob body gets its Content-Length from Bun; a stream is sent chunked (oven-sh/bun#10507).
    if (body instanceof Blob) headers.set("Content-Length", String(body.size));
    return new Response(body, { status: 200, headers });
  }
  headers.set("Content-Range", `bytes ${range.start}-${range.end}/${row.size}`);
  const body = await open(range);
  if (body instanceof Blob) headers.set("Content-Length", String(body.size));
  return new Response(body, { status: 206, headers });
}
