// POST /rooms/{room_id}/attachments and GET /attachments/{id}: docs/reference/rest.md "Attachments" (uploads, limits,
// filenames, download headers, signed urls, Range), on the file store and on S3.
import { expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { forEachBlobStore } from "./suite";
import { BOUNDARY, download, multipart, upload } from "./upload-helpers";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const sha = (d: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(d).digest("hex");

forEachBlobStore("attachments: upload and download", (ctx) => {
  async function setup(config?: Record<string, unknown>) {
    const t = await ctx.tenant(config);
    const r = await t.as("a").post("/rooms", { type: "group", members: ["b"] });
    return { t, roomId: r.body.room_id as string };
  }

  test("upload: 201 Attachment; a member downloads it with ETag, Content-Length, nosniff, CSP sandbox", async () => {
    const { t, roomId } = await setup();
    const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: "pic.png", type: "image/png", data: PNG });
    expect(up.status).toBe(201);
    expect(Object.keys(up.body).sort()).toEqual(["attachment_id", "content_type", "created_at", "filename", "room_id", "sha256", "size", "uploader_id", "url", "url_expires_at"]);
    expect(up.body).toMatchObject({ room_id: roomId, uploader_id: "a", filename: "pic.png", content_type: "image/png", size: PNG.length, sha256: sha(PNG) });
    expect(up.body.url).toMatch(new RegExp(`^/attachments/${up.body.attachment_id}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
    const expiresIn = Date.parse(up.body.url_expires_at) - Date.now();
    expect(expiresIn > 3_500_000 && expiresIn <= 3_600_000).toBe(true);
    // The uploader may fetch it before sending; the file is served inline with its type.
    const d = await download(`${ctx.s().url}/attachments/${up.body.attachment_id}`, t.h("a"));
    expect(d.status).toBe(200);
    expect(d.bytes).toEqual(PNG);
    expect(d.headers.get("etag")).toBe(`"${sha(PNG)}"`);
    expect(d.headers.get("content-length")).toBe(String(PNG.length));
    expect(d.headers.get("x-content-type-options")).toBe("nosniff");
    expect(d.headers.get("content-security-policy")).toBe("sandbox");
    expect(d.headers.get("content-type")).toBe("image/png");
    expect(d.headers.get("content-disposition")).toStartWith("inline");
  });

  test("text/html (and any type off the allowlist) is served as an application/octet-stream download", async () => {
    const { t, roomId } = await setup();
    for (const [type, inline] of [["text/html", false], ["image/svg+xml", false], ["application/javascript", false], ["text/plain", false], ["image/jpeg", true], ["image/gif", true], ["image/webp", true], ["audio/ogg", true], ["video/mp4", true]] as const) {
      const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: "x.html", type, data: "<script>alert(1)</script>" });
      expect(up.status).toBe(201);
      const d = await download(ctx.s().url + up.body.url);
      expect(d.status).toBe(200);
      expect(d.headers.get("content-type")).toBe(inline ? type : "application/octet-stream");
      expect(d.headers.get("content-disposition")!.startsWith(inline ? "inline;" : "attachment;")).toBe(true);
      expect(d.headers.get("x-content-type-options")).toBe("nosniff");
      expect(d.headers.get("content-security-policy")).toBe("sandbox");
    }
  });

  test("path-traversal filenames keep only the base name; files are named by id, never by the user", async () => {
    const { t, roomId } = await setup();
    for (const [given, kept] of [["../../etc/passwd", "passwd"], ["..\\..\\boot.ini", "boot.ini"], ["/abs/name.txt", "name.txt"], ["a/b/c d.txt", "c d.txt"]] as const) {
      const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: given, type: "text/plain", data: "x" });
      expect(up.status).toBe(201);
      expect(up.body.filename).toBe(kept);
      const d = await download(ctx.s().url + up.body.url);
      expect(d.headers.get("content-disposition")).toContain(`filename="${kept}"`);
    }
    if (ctx.kind === "file") {
      const dir = join(ctx.s().dataDir, "attachments", t.tenant_id);
      for (const f of readdirSync(dir)) expect(f).toMatch(/^[0-9a-f-]{36}$/);
      expect(existsSync(join(ctx.s().dataDir, "etc"))).toBe(false);
    }
    for (const bad of ["..", ".", "a\u0001b", "tab\there", "x".repeat(256), "dir/"]) {
      const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: bad, type: "text/plain", data: "x" });
      expect({ bad, status: up.status, error: up.body.error }).toEqual({ bad, status: 400, error: "invalid_request" });
    }
    expect((await upload(ctx.s().url, t.h("a"), roomId, { filename: "é".repeat(255), data: "x" })).status).toBe(201);
  });

  test("415 when not multipart; 400 without a file part or when empty; 413 over max_attachment_bytes", async () => {
    const { t, roomId } = await setup({ max_attachment_bytes: 1000 });
    const json = await t.as("a").post(`/rooms/${roomId}/attachments`, { file: "x" });
    expect({ status: json.status, error: json.body.error }).toEqual({ status: 415, error: "unsupported_media_type" });
    const noFile = await fetch(`${ctx.s().url}/rooms/${roomId}/attachments`, { method: "POST", headers: { ...t.h("a"), "content-type": `multipart/form-data; boundary=${BOUNDARY}` }, body: multipart([{ name: "other", data: "x" }]) as unknown as BodyInit });
    expect(noFile.status).toBe(400);
    expect((await upload(ctx.s().url, t.h("a"), roomId, { filename: "e.txt", data: "" })).status).toBe(400);
    expect((await upload(ctx.s().url, t.h("a"), roomId, { filename: "ok.bin", data: new Uint8Array(1000) })).status).toBe(201);
    const big = await upload(ctx.s().url, t.h("a"), roomId, { filename: "big.bin", data: new Uint8Array(1001) });
    expect({ status: big.status, error: big.body.error }).toEqual({ status: 413, error: "payload_too_large" });
    // Over the JSON body limit (256 KiB) is fine for an upload within its own limit.
    const { t: t2, roomId: r2 } = await setup();
    expect((await upload(ctx.s().url, t2.h("a"), r2, { filename: "m.bin", data: new Uint8Array(600_000) })).status).toBe(201);
  });

  test("a chunked upload without Content-Length is streamed and checked the same way", async () => {
    const { t, roomId } = await setup({ max_attachment_bytes: 300_000 });
    const send = (n: number) => {
      const body = multipart([{ name: "file", filename: "s.bin", data: new Uint8Array(n).fill(7) }]);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < body.length; i += 50_000) c.enqueue(body.subarray(i, i + 50_000));
          c.close();
        },
      });
      return fetch(`${ctx.s().url}/rooms/${roomId}/attachments`, { method: "POST", headers: { ...t.h("a"), "content-type": `multipart/form-data; boundary=${BOUNDARY}` }, body: stream });
    };
    const ok = await send(250_000);
    expect(ok.status).toBe(201);
    expect((await ok.json()).size).toBe(250_000);
    expect((await send(300_001)).status).toBe(413);
  });

  test("members only: non-member upload 403, unknown room 404; downloads: non-member 403, other tenant 404, no credentials 401", async () => {
    const { t, roomId } = await setup();
    expect((await upload(ctx.s().url, t.h("x"), roomId, { filename: "a.txt", data: "x" })).status).toBe(403);
    expect((await upload(ctx.s().url, t.h("a"), "01900000-0000-7000-8000-000000000000", { filename: "a.txt", data: "x" })).status).toBe(404);
    const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: "a.txt", data: "x" });
    const sent = await t.as("a").post(`/rooms/${roomId}/messages`, { attachments: [up.body.attachment_id] });
    expect(sent.status).toBe(201);
    const path = `${ctx.s().url}/attachments/${up.body.attachment_id}`;
    expect((await download(path, t.h("b"))).status).toBe(200);
    expect((await download(path, t.h("x"))).status).toBe(403);
    const other = await ctx.tenant();
    expect((await download(path, other.h("a"))).status).toBe(404);
    expect((await download(`${ctx.s().url}/attachments/01900000-0000-7000-8000-000000000000`, t.h("a"))).status).toBe(404);
    const anon = await download(path);
    expect({ status: anon.status, error: anon.json?.error }).toEqual({ status: 401, error: "unauthorized" });
  });

  test("signed url: works without credentials; tampering and expiry are 401", async () => {
    const { t, roomId } = await setup();
    const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: "a.txt", data: "signed" });
    const id = up.body.attachment_id as string;
    const url = new URL(ctx.s().url + up.body.url);
    expect(new TextDecoder().decode((await download(url.href)).bytes)).toBe("signed");
    const sig = url.searchParams.get("signature")!;
    const exp = url.searchParams.get("expires")!;
    const other = await upload(ctx.s().url, t.h("a"), roomId, { filename: "b.txt", data: "other" });
    const cases = [
      `expires=${exp}&signature=${(sig[0] === "a" ? "b" : "a") + sig.slice(1)}`,
      `expires=${Number(exp) + 3600}&signature=${sig}`,
      `expires=${exp}&signature=${sig.slice(0, 63)}`,
      `expires=${exp}&signature=`,
      `expires=&signature=${sig}`,
      `signature=${sig}`,
      `expires=${exp}`,
      `expires=${exp}&signature=${sig.toUpperCase()}`,
    ];
    for (const qs of cases) {
      const d = await download(`${ctx.s().url}/attachments/${id}?${qs}`);
      expect({ qs, status: d.status, error: d.json?.error }).toEqual({ qs, status: 401, error: "unauthorized" });
    }
    // A signature of one attachment does not open another.
    expect((await download(`${ctx.s().url}/attachments/${other.body.attachment_id}?expires=${exp}&signature=${sig}`)).status).toBe(401);
    // Expired: signed by the server two hours ago (TTL 1 h).
    const old = ctx.s().api.attachments.urls.sign(id, Date.now() - 2 * 3_600_000);
    const expired = await download(ctx.s().url + old.url);
    expect({ status: expired.status, error: expired.json?.error }).toEqual({ status: 401, error: "unauthorized" });
    expect(expired.json.message).toContain("expired");
  });

  test("ETag and If-None-Match 304; Range 206 with Content-Range; unsatisfiable 416", async () => {
    const { t, roomId } = await setup();
    const data = new TextEncoder().encode("0123456789abcdefghij");
    const up = await upload(ctx.s().url, t.h("a"), roomId, { filename: "r.bin", data });
    const url = ctx.s().url + up.body.url;
    const etag = `"${sha(data)}"`;
    const nm = await download(url, { "if-none-match": etag });
    expect(nm.status).toBe(304);
    expect(nm.bytes.length).toBe(0);
    expect(nm.headers.get("etag")).toBe(etag);
    expect((await download(url, { "if-none-match": '"other"' })).status).toBe(200);
    for (const [range, from, to] of [["bytes=0-4", 0, 4], ["bytes=5-", 5, 19], ["bytes=-3", 17, 19], ["bytes=18-100", 18, 19]] as const) {
      const d = await download(url, { range });
      expect(d.status).toBe(206);
      expect(new TextDecoder().decode(d.bytes)).toBe(new TextDecoder().decode(data.subarray(from, to + 1)));
      expect(d.headers.get("content-range")).toBe(`bytes ${from}-${to}/20`);
      expect(d.headers.get("content-length")).toBe(String(to - from + 1));
      expect(d.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const bad = await download(url, { range: "bytes=20-" });
    expect(bad.status).toBe(416);
    expect(bad.headers.get("content-range")).toBe("bytes */20");
    // A range form we do not serve (several ranges) gets the whole file.
    expect((await download(url, { range: "bytes=0-1,4-5" })).status).toBe(200);
  });
});
