// Overload and slow consumers: 429s with a Retry-After consistent with the bucket, a flood of one
// tenant leaves another tenant's latency within bounds, a consumer that stops reading is closed 1013
// while the others keep receiving, and it recovers everything by replay (+ `sync` paging of gaps).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestServer, waitFor, type TestServer } from "../helpers";
import { readServerFrames, SocketFrames } from "./lib/ws-raw";
import { onlyOn } from "../support/test-store";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ CONSOLE_ENABLED: "false" });
});
afterAll(() => s?.stop());

describe("rate limits", () => {
  test("a tenant flood gets 429 rate_limit_exceeded; Retry-After >= 1 and consistent with the refill; the next token arrives on time", async () => {
    const t = await s.createTenant("limited", { rate_limit: 2, rate_limit_burst: 4 });
    const c = s.client(t.api_key, "u");
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await c.get("/rooms?limit=1"));
    expect(answers.slice(0, 4).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.slice(0, 4).map((a) => a.headers.get("ratelimit-remaining"))).toEqual(["3", "2", "1", "0"]);
    const refused = answers.slice(4);
    for (const a of refused) {
      expect(a.status).toBe(429);
      expect(a.body.error).toBe("rate_limit_exceeded");
      // One token refills in 1/rate = 500 ms: retry_after_ms is at most that; Retry-After rounds up to whole seconds.
      expect(a.body.retry_after_ms).toBeGreaterThan(0);
      expect(a.body.retry_after_ms).toBeLessThanOrEqual(500);
      expect(Number(a.headers.get("retry-after"))).toBe(Math.max(1, Math.ceil(a.body.retry_after_ms / 1000)));
      expect(a.headers.get("ratelimit-limit")).toBe("4");
      expect(a.headers.get("ratelimit-remaining")).toBe("0");
      const reset = Number(a.headers.get("ratelimit-reset"));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(2); // capacity / rate
    }
    // Retry until admitted (a refused request costs no token): the wait must match the hint.
    const hint = refused.at(-1)!.body.retry_after_ms as number;
    const t0 = performance.now();
    await waitFor(async () => (await c.get("/rooms?limit=1")).status === 200, 5000, "a token after retry_after_ms");
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(hint - 50);
    expect(waited).toBeLessThanOrEqual(hint + 500);
  });

  test("the per-user send bucket answers 429 with its own RateLimit headers; other users of the tenant still send", async () => {
    const t = await s.createTenant("user-limited", { user_message_rate: 1 });
    const a = s.client(t.api_key, "a");
    const room = (await a.post("/rooms", { type: "group", members: ["b"] })).body.room_id;
    expect((await a.post(`/rooms/${room}/messages`, { content: "1" })).status).toBe(201);
    expect((await a.post(`/rooms/${room}/messages`, { content: "2" })).status).toBe(201);
    const r = await a.post(`/rooms/${room}/messages`, { content: "3" });
    expect(r.status).toBe(429);
    expect(r.body.error).toBe("rate_limit_exceeded");
    expect(r.headers.get("ratelimit-limit")).toBe("2");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(r.body.retry_after_ms).toBeLessThanOrEqual(1000);
    expect((await s.client(t.api_key, "b").post(`/rooms/${room}/messages`, { content: "b" })).status).toBe(201);
  });

  test("a rate-limited WS frame gets an error with retry_after_ms and the socket stays open", async () => {
    const t = await s.createTenant("ws-limited", { rate_limit: 2, rate_limit_burst: 4 });
    const sock = await SocketFrames.open(s.wsUrl, { "x-api-key": t.api_key, "x-user-id": "u" });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await sock.request({ type: "ping", id: `p${i}` }));
    const limited = answers.filter((a) => a.type === "error");
    expect(limited.length).toBeGreaterThan(0);
    for (const a of limited) {
      expect(a.error).toBe("rate_limit_exceeded");
      expect(a.retry_after_ms).toBeGreaterThan(0);
      expect(a.retry_after_ms).toBeLessThanOrEqual(500);
    }
    const hint = limited.at(-1)!.retry_after_ms as number;
    const t0 = performance.now();
    let n = 0;
    await waitFor(async () => (await sock.request({ type: "ping", id: `after-${n++}` })).type === "reply", 5000, "a frame admitted after retry_after_ms");
    expect(performance.now() - t0).toBeLessThanOrEqual(hint + 500);
    expect(sock.closed).toBeNull();
    sock.close();
  });
});

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

async function measure(url: string, key: string, n: number): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/rooms?limit=1`, { headers: { "x-api-key": key, "x-user-id": "calm" } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`tenant B got ${res.status}`);
    out.push(performance.now() - t0);
  }
  return p99(out);
}

// Measured on SQLite only: the rate limiter under test is the same for both stores, and on PostgreSQL
// its backends take CPU from the same 2 cores as the flood, so B's p99 would measure the machine.
test.skipIf(onlyOn("sqlite", "the tenant-flood p99 test (overload.test.ts) runs on SQLite only"))("a flood beyond tenant A's limit leaves tenant B's p99 within max(2x, +15 ms) of its unloaded p99", async () => {
  // On a 2-core machine the server, the flood process and this measuring loop share the cores, so the
  // bound is max(2 x unloaded p99, unloaded p99 + 15 ms); the measurement is repeated up to 3 times and
  // the best attempt counts (other processes on the box add noise that is not the server's doing).
  const a = await s.createTenant("flooder", { rate_limit: 50 });
  const b = await s.createTenant("calm");
  await measure(s.url, b.api_key, 50);
  let last = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    const alone = await measure(s.url, b.api_key, 400);
    const floodMs = 4000;
    const flood = Bun.spawn([process.execPath, join(import.meta.dir, "flood.ts"), s.url, a.api_key, String(floodMs), "8"], { stdout: "pipe", stderr: "inherit" });
    const lines: string[] = [];
    const reader = (async () => {
      for await (const chunk of flood.stdout) lines.push(...new TextDecoder().decode(chunk).split("\n").filter(Boolean));
    })();
    await waitFor(() => lines.some((l) => l.includes("flooding")), 10_000, "the flood to hit 429");
    const loaded = await measure(s.url, b.api_key, 400);
    await flood.exited;
    await reader;
    const summary = JSON.parse(lines.find((l) => l.includes('"done"'))!);
    const bound = Math.max(2 * alone, alone + 15);
    last = `attempt ${attempt}: B p99 alone ${alone.toFixed(2)} ms, during A's flood ${loaded.toFixed(2)} ms (bound ${bound.toFixed(2)} ms); flood answers ${JSON.stringify(summary.counts)}`;
    console.log(last);
    expect(summary.counts["429"]).toBeGreaterThan(100);
    expect(Object.keys(summary.counts).filter((k) => k !== "200" && k !== "429")).toEqual([]);
    expect(summary.badRetryAfter).toBe(0);
    // The bucket let through at most its burst plus the refill over the flood (+ slack for start-up).
    expect(summary.counts["200"]).toBeLessThanOrEqual(100 + 50 * (floodMs / 1000) + 60);
    if (loaded <= bound) return;
  }
  throw new Error(`tenant B's latency under A's flood stayed over the bound: ${last}`);
}, 60_000);

test("a consumer that stops reading is closed 1013, the other member keeps receiving, and the slow one recovers everything by replay", async () => {
  const t = await s.createTenant("slow", { max_message_bytes: 8192, rate_limit: 1_000_000, user_message_rate: 1_000_000 });
  const sender = s.client(t.api_key, "sender");
  const room = (await sender.post("/rooms", { type: "group", members: ["slow", "fast"] })).body.room_id;
  const fast = await SocketFrames.open(s.wsUrl, { "x-api-key": t.api_key, "x-user-id": "fast" });
  const raw = await readServerFrames(s.url, { "X-API-Key": t.api_key, "X-User-Id": "slow" });
  raw.pause();
  await waitFor(async () => (await s.sockets(t.tenant_id, "slow")) === 1, 3000, "slow socket registered");
  // WS_BACKPRESSURE_BYTES is 1 MiB; the kernel buffers a few MiB more before the server sees any.
  const content = "s".repeat(8000);
  let sent = 0;
  while ((await s.sockets(t.tenant_id, "slow")) > 0 && sent < 4000) {
    const batch = await Promise.all(Array.from({ length: 10 }, (_, i) => sender.post(`/rooms/${room}/messages`, { content: `${sent + i} ${content}` })));
    for (const r of batch) expect(r.status).toBe(201);
    sent += 10;
  }
  expect(await s.sockets(t.tenant_id, "slow")).toBe(0);
  // The other member got every message, in order.
  await waitFor(() => fast.messages(room).length >= sent, 15_000, "the fast member's messages");
  expect(fast.messages(room).map((m) => m.seq)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  expect(fast.closed).toBeNull();
  // The slow socket's last frame is a close with 1013.
  raw.resume();
  const closeCode = await raw.closeCode(10_000);
  expect(closeCode).toBe(1013);
  // Recovery: reconnect, take the replay, page the announced gaps with `sync`.
  const again = await SocketFrames.open(s.wsUrl, { "x-api-key": t.api_key, "x-user-id": "slow" });
  const seqs = new Set(again.messages(room).map((m) => m.seq));
  for (const gap of again.frames.filter((f) => f.type === "sync.gap" && f.room_id === room)) {
    let after = gap.from_seq - 1;
    while (after < gap.to_seq) {
      const r = await again.request({ type: "sync", id: `s${after}`, data: { room_id: room, after_seq: after, before_seq: gap.to_seq + 1, limit: 50 } });
      expect(r.type).toBe("reply");
      for (const m of r.data.messages) seqs.add(m.seq);
      if (r.data.messages.length === 0) break;
      after = r.data.messages.at(-1).seq;
    }
  }
  expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  fast.close();
  again.close();
}, 60_000);
