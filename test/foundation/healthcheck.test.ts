// `chatapi healthcheck` says why it failed on stderr (issue 14): refused connection with the address,
// the HTTP status with the body, a body without status ok; and stays quiet when healthy.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startTestServer } from "../helpers";
import { freePort, runCli, tempDir } from "./cli";
import { setReadOnly } from "../support/faults";

const root = tempDir("chatapi-hc-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("healthy: exit 0, nothing on stderr", async () => {
  const s = await startTestServer();
  try {
    const r = await runCli(["healthcheck"], { DATA_DIR: s.dataDir, LISTEN_ADDR: `127.0.0.1:${s.api.port}` });
    expect(r).toMatchObject({ code: 0, stderr: "" });
  } finally {
    await s.stop();
  }
});

test("nothing listens: exit 1, 'connection refused' and the URL on stderr", async () => {
  const port = freePort();
  const r = await runCli(["healthcheck"], { DATA_DIR: join(root, "refused"), LISTEN_ADDR: `127.0.0.1:${port}` });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`healthcheck: cannot connect to http://127.0.0.1:${port}/health: connection refused`);
  expect(r.stdout).toBe("");
});

test("a wildcard LISTEN_ADDR is probed on loopback", async () => {
  const port = freePort();
  const r = await runCli(["healthcheck"], { DATA_DIR: join(root, "wild"), LISTEN_ADDR: `:${port}` });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`http://127.0.0.1:${port}/health`);
});

test("503 from the server: exit 1 with the status and the body", async () => {
  const s = await startTestServer();
  setReadOnly(s.api, true);
  try {
    const r = await runCli(["healthcheck"], { DATA_DIR: s.dataDir, LISTEN_ADDR: `127.0.0.1:${s.api.port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`GET http://127.0.0.1:${s.api.port}/health answered HTTP 503`);
    expect(r.stderr).toContain('"db_writable":false');
  } finally {
    setReadOnly(s.api, false);
    await s.stop();
  }
});

test("something else on the port (200 without status ok, long body cut): exit 1 with what it said", async () => {
  const impostor = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(`<html>${"x".repeat(2000)}</html>`, { headers: { "content-type": "text/html" } }) });
  try {
    const r = await runCli(["healthcheck"], { DATA_DIR: join(root, "impostor"), LISTEN_ADDR: `127.0.0.1:${impostor.port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("answered HTTP 200 without status ok: <html>xxx");
    expect(r.stderr.length).toBeLessThan(800);
  } finally {
    impostor.stop(true);
  }
});
