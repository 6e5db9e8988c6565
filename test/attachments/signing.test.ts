// The signing secret of attachment urls: DATA_DIR/attachment-url.key (0600) on SQLite, kept across
// restarts; in the database on PostgreSQL, so every node verifies every other node's urls.
import { expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { startTestServer } from "../helpers";
import { createTestDatabase, postgresAvailable } from "../support/postgres";
import { download, upload } from "./upload-helpers";

async function roomWithUpload(s: Awaited<ReturnType<typeof startTestServer>>, data: string) {
  const t = await s.createTenant("signing");
  const r = await s.client(t.api_key, "a").post("/rooms", { type: "group", members: ["b"] });
  const up = await upload(s.url, { "x-api-key": t.api_key, "x-user-id": "a" }, r.body.room_id, { filename: "s.txt", data });
  expect(up.status).toBe(201);
  return up.body;
}

test("SQLite: the secret is DATA_DIR/attachment-url.key, mode 0600, and survives a restart", async () => {
  const dsn = { DATABASE_DSN: "" };
  const first = await startTestServer(dsn);
  const dataDir = first.dataDir;
  let url = "";
  try {
    if (first.api.store.kind !== "sqlite") return;
    url = (await roomWithUpload(first, "kept")).url;
    expect(statSync(join(dataDir, "attachment-url.key")).mode & 0o777).toBe(0o600);
    expect((await download(first.url + url)).status).toBe(200);
    // A second server on the same DATA_DIR (after the first stopped) accepts the same url.
    await first.api.stop();
    const again = await startTestServer({ ...dsn, DATA_DIR: dataDir, DATABASE_DSN: `file:${join(dataDir, "chatapi.db")}` });
    try {
      expect(new TextDecoder().decode((await download(again.url + url)).bytes)).toBe("kept");
    } finally {
      await again.api.stop();
    }
  } finally {
    await first.stop();
  }
});

test.skipIf(!(await postgresAvailable()))("PostgreSQL: two servers on one database verify each other's signed urls", async () => {
  const db = await createTestDatabase();
  const shared = join((await import("node:os")).tmpdir(), `chatapi-shared-files-${process.pid}-${Date.now()}`);
  const env = { DATABASE_DSN: db.url, ATTACHMENTS_STORE: `file:${shared}` };
  const a = await startTestServer(env);
  const b = await startTestServer(env);
  try {
    const att = await roomWithUpload(a, "from node a");
    expect(new TextDecoder().decode((await download(b.url + att.url)).bytes)).toBe("from node a");
    const tampered = att.url.replace(/signature=./, (m: string) => m.slice(0, -1) + (m.endsWith("0") ? "1" : "0"));
    expect((await download(b.url + tampered)).status).toBe(401);
  } finally {
    await a.stop();
    await b.stop();
    await db.drop();
    (await import("node:fs")).rmSync(shared, { recursive: true, force: true });
  }
});
