// examples/ws-demo.ts runs against a real server and exits 0 by itself (issue 14: the README's demo
// never exited); without KEY/ROOM it prints its usage and exits 2; refused, it exits 1.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers";

const EXAMPLE = join(import.meta.dir, "..", "..", "examples", "ws-demo.ts");
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.stop());

// Asynchronous spawn: the server under test runs in this process.
async function runExample(env: Record<string, string>) {
  const p = Bun.spawn([process.execPath, EXAMPLE], { env: { PATH: process.env.PATH ?? "", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 20_000 });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

test("sends, receives its own message, closes 1000 and exits 0", async () => {
  const t = await s.createTenant("example");
  const room = await s.client(t.api_key, "alice").post("/rooms", { type: "group", members: ["bob"] });
  expect(room.status).toBe(201);
  // Something to replay first, so the demo waits for sync.complete before it sends.
  expect((await s.client(t.api_key, "alice").post(`/rooms/${room.body.room_id}/messages`, { content: "earlier" })).status).toBe(201);

  const r = await runExample({ BASE: s.url, KEY: t.api_key, ROOM: room.body.room_id });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const types = r.stdout.split("\n").filter(Boolean).map((l) => l.split(" ")[0]);
  expect(types[0]).toBe("connected");
  expect(types.indexOf("sync.complete")).toBeGreaterThan(types.indexOf("message"));
  expect(types).toContain("reply");
  expect(r.stdout).toContain("closed 1000 done");
  const history = await s.client(t.api_key, "alice").get(`/rooms/${room.body.room_id}/messages`);
  expect(history.body.messages.map((m: any) => [m.sender_id, m.content.startsWith("hi from bob")])).toEqual([
    ["alice", false],
    ["bob", true],
  ]);
});

test("without KEY and ROOM: usage on stderr, exit 2", async () => {
  const r = await runExample({ BASE: s.url });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("usage: KEY=");
});

test("a user outside the room gets the error frame and exit 1", async () => {
  const t = await s.createTenant("example-refused");
  const room = await s.client(t.api_key, "alice").post("/rooms", { type: "group", members: ["carol"] });
  const r = await runExample({ BASE: s.url, KEY: t.api_key, ROOM: room.body.room_id, USER_ID: "mallory" });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("error frame:");
});
