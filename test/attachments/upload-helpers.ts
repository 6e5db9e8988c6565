// Multipart bodies built by hand (exact filenames and headers), and an upload helper.
import type { Res } from "../helpers";

export const BOUNDARY = "----chatapi-test-boundary-7MA4YWxkTrZu0gW";

/** A multipart/form-data body with one part; `filename` is written as given (quotes escaped). */
export function multipart(parts: { name: string; filename?: string; type?: string; data: Uint8Array | string }[]): Uint8Array {
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  for (const p of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename.replace(/"/g, "%22")}"`;
    head += "\r\n";
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    out.push(enc.encode(head + "\r\n"), typeof p.data === "string" ? enc.encode(p.data) : p.data, enc.encode("\r\n"));
  }
  out.push(enc.encode(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(out);
}

/** POSTs a file part named `file` to the room; returns the parsed response. */
export async function upload(base: string, headers: Record<string, string>, roomId: string, file: { filename: string; type?: string; data: Uint8Array | string }): Promise<Res> {
  const res = await fetch(`${base}/rooms/${roomId}/attachments`, {
    method: "POST",
    headers: { ...headers, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    body: multipart([{ name: "file", ...file }]) as unknown as BodyInit,
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, headers: res.headers };
}

/** GET of a download, keeping the bytes. */
export async function download(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Uint8Array; json: any }> {
  const res = await fetch(url, { headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {}
  return { status: res.status, headers: res.headers, bytes, json };
}
