// @chatapi/client as a user gets it (issue 14): build packages/client, `npm pack` it, install the
// tarball offline into a scratch project in a temp dir, type-check a consumer against the published
// declarations, and run a message round trip against a real server from there, with Node and Bun.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import rootPkg from "../../package.json";
import { buildClientPackage, importsOf } from "../../packages/client/build";
import { startTestServer, type TestServer } from "../helpers";

const REPO_ROOT = join(import.meta.dir, "..", "..");
const PKG_DIR = join(REPO_ROOT, "packages", "client");
const NODE = Bun.which("node");
const NPM = Bun.which("npm");
const nodeMissing = NODE === null || NPM === null ? "node/npm not on PATH" : null;
if (nodeMissing) console.warn(`client package test skipped: ${nodeMissing}`);

// Asynchronous: the server under test runs in this process and must keep answering meanwhile.
async function run(cmd: string[], cwd: string, env: Record<string, string> = {}) {
  const p = Bun.spawn(cmd, { cwd, env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

describe.skipIf(nodeMissing !== null)("@chatapi/client package", () => {
  const work = mkdtempSync(join(tmpdir(), "chatapi-client-pkg-"));
  const scratch = join(work, "app");
  let s: TestServer;
  let tarball: string;
  let files: string[];
  let env: Record<string, string>;

  beforeAll(async () => {
    s = await startTestServer();
    await buildClientPackage();
    const packed = await run([NPM!, "pack", "--json", "--pack-destination", work], PKG_DIR);
    if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    const info = JSON.parse(packed.stdout)[0] as { filename: string; files: { path: string }[] };
    tarball = join(work, info.filename);
    files = info.files.map((f) => f.path).sort();
    Bun.spawnSync(["mkdir", "-p", scratch]);
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch-app", version: "1.0.0", private: true, type: "module" }));
    // Offline: the package has no dependencies, so the tarball is all npm needs.
    const installed = await run([NPM!, "install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], scratch);
    if (installed.code !== 0) throw new Error(`npm install --offline failed: ${installed.stderr}`);
    copyFileSync(join(import.meta.dir, "roundtrip.mjs"), join(scratch, "roundtrip.mjs"));
    copyFileSync(join(import.meta.dir, "consumer.ts"), join(scratch, "consumer.ts"));

    const t = await s.createTenant("client-package");
    const room = await s.client(t.api_key, "alice").post("/rooms", { type: "group", name: "pkg", members: ["bob"] });
    expect(room.status).toBe(201);
    env = { CHATAPI_URL: s.url, CHATAPI_KEY: t.api_key, CHATAPI_ROOM: room.body.room_id };
  }, 180_000);

  afterAll(async () => {
    await s?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("the tarball: MIT, ESM with types, only dist + README + LICENSE, no dependencies", () => {
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files).toContain("LICENSE");
    expect(files.every((f) => f.startsWith("dist/") || ["package.json", "README.md", "LICENSE"].includes(f))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(scratch, "node_modules", "@chatapi", "client", "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "@chatapi/client", version: rootPkg.version, license: "MIT", type: "module", types: "./dist/index.d.ts" });
    expect(pkg.exports["."]).toMatchObject({ types: "./dist/index.d.ts", import: "./dist/index.js" });
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.peerDependencies).toBeUndefined();
  });

  test("the bundle imports nothing: no server code, no runtime modules", () => {
    const js = readFileSync(join(scratch, "node_modules", "@chatapi", "client", "dist", "index.js"), "utf8");
    expect(importsOf(js)).toEqual([]);
    expect(js).not.toMatch(/["'](?:bun|node):|\bBun\.|bun:sqlite|elysia/);
    // The importsOf check itself sees imports.
    expect(importsOf(`import { x } from "bun:sqlite"; const y = await import("node:fs");`)).toEqual(["bun:sqlite", "node:fs"]);
  });

  test("a consumer type-checks against the published declarations (module nodenext, lib checks on)", async () => {
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", lib: ["ES2022", "DOM"], types: [], strict: true, noEmit: true, skipLibCheck: false }, files: ["consumer.ts"] }),
    );
    const r = await run([process.execPath, join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(scratch, "tsconfig.json")], scratch);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("round trip from Node with browser-style tokens (getToken + fetch)", async () => {
    const major = Number((await run([NODE!, "-p", "process.versions.node.split('.')[0]"], scratch)).stdout.trim());
    // Node 20 and 21 have WebSocket behind a flag; 22+ by default.
    const flags = major < 22 ? ["--experimental-websocket", "--no-warnings"] : [];
    const r = await run([NODE!, ...flags, "roundtrip.mjs"], scratch, { ...env, CHATAPI_AUTH: "token" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sent.content).toStartWith("hello from node ");
    expect(out.received).toEqual(out.sent);
    expect(out.sent.sender).toBe("alice");
    expect(out.userId).toBe("alice");
    expect(out.errorCode).toBe("not_found");
  }, 60_000);

  test("round trip from Node with the tenant key as handshake headers", async () => {
    const major = Number((await run([NODE!, "-p", "process.versions.node.split('.')[0]"], scratch)).stdout.trim());
    const flags = major < 22 ? ["--experimental-websocket", "--no-warnings"] : [];
    const r = await run([NODE!, ...flags, "roundtrip.mjs"], scratch, { ...env, CHATAPI_AUTH: "key" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.received).toEqual(out.sent);
    expect(out.errorCode).toBe("not_found");
  }, 60_000);

  test("round trip from Bun with the tenant key as handshake headers", async () => {
    const r = await run([process.execPath, "roundtrip.mjs"], scratch, { ...env, CHATAPI_AUTH: "key" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sent.content).toBe(`hello from bun ${Bun.version}`);
    expect(out.received).toEqual(out.sent);
    expect(out.errorCode).toBe("not_found");
  }, 60_000);
});
