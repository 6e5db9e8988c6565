// Conversation features (issue 16), one scenario each: a send with 50 mentions, a reaction on a
// message holding 10,000 reactions, a page of a thread with 10,000 replies, and GET /rooms for a
// user with 1,000 rooms that all have unread mentions. Each measures one request at a time from
// this process (latency, not throughput) after seeding through the public API; no baseline.
import { createRoom, createTenant, pMap } from "../lib/api";
import type { Ctx } from "../lib/ctx";
import { Hist } from "../lib/hist";
import type { RunFigures, ScenarioResult } from "../lib/report";
import { startProduct, type ServerHandle } from "../lib/server";
import { howProduct, M, tMedian, tmp } from "./common";

interface Sizes {
  samples: number;
  mentions: number;
  reactionUsers: number;
  reactionsPerUser: number;
  replies: number;
  rooms: number;
}

const FULL: Sizes = { samples: 300, mentions: 50, reactionUsers: 500, reactionsPerUser: 20, replies: 10_000, rooms: 1000 };
const SMOKE: Sizes = { samples: 20, mentions: 50, reactionUsers: 5, reactionsPerUser: 4, replies: 30, rooms: 12 };

// `ref`: a comparison request measured interleaved with the measured one, on the same server (what
// the feature adds over the plain operation; the machine's load hits both alike).
type Req = { method: string; path: string; user: string; body?: unknown; expect: number; ref?: boolean };

async function once(h: ServerHandle, key: string, r: Req): Promise<number> {
  const t = performance.now();
  const res = await fetch(h.base + r.path, {
    method: r.method,
    headers: { "x-api-key": key, "x-user-id": r.user, ...(r.body !== undefined ? { "content-type": "application/json" } : {}) },
    body: r.body !== undefined ? JSON.stringify(r.body) : undefined,
  });
  await res.arrayBuffer();
  const ms = performance.now() - t;
  if (res.status !== r.expect) throw new Error(`${r.method} ${r.path} -> ${res.status} (expected ${r.expect})`);
  return ms;
}

/** ctx.runs runs of `samples` sequential rounds each (after a warm-up of samples/6). */
async function measure(ctx: Ctx, h: ServerHandle, key: string, samples: number, next: (i: number) => Req | Req[]): Promise<RunFigures[]> {
  let i = 0;
  const one = async (hist: Hist | null, ref: Hist | null) => {
    const reqs = next(i++);
    for (const r of Array.isArray(reqs) ? reqs : [reqs]) {
      const ms = await once(h, key, r);
      (r.ref ? ref : hist)?.record(ms);
    }
  };
  for (let w = 0; w < Math.max(2, samples / 6); w++) await one(null, null);
  const runs: RunFigures[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    const hist = new Hist();
    const ref = new Hist();
    const t0 = performance.now();
    for (let k = 0; k < samples; k++) await one(hist, ref);
    const secs = (performance.now() - t0) / 1000;
    const f: RunFigures = { p50_ms: hist.percentile(0.5), p99_ms: hist.percentile(0.99), max_ms: hist.max, throughput: hist.n / secs, errors: 0 };
    if (ref.n > 0) Object.assign(f, { ref_p50_ms: ref.percentile(0.5), ref_p99_ms: ref.percentile(0.99) });
    runs.push(f);
  }
  return runs;
}

async function scenario(ctx: Ctx, name: string, title: string, refLabel: string, body: (h: ServerHandle, key: string, S: Sizes, seeded: () => void) => Promise<{ runs: RunFigures[]; setup: Record<string, unknown> }>): Promise<ScenarioResult> {
  const S = ctx.smoke ? SMOKE : FULL;
  const t0 = performance.now();
  const r: ScenarioResult = {
    name,
    title,
    metrics: [
      M.p50,
      M.p99,
      M.max,
      { key: "ref_p50_ms", label: `${refLabel} p50 (ms)`, unit: "ms", better: "lower" },
      { key: "ref_p99_ms", label: `${refLabel} p99 (ms)`, unit: "ms", better: "lower" },
      M.throughput("sequential requests/s"),
      M.errors,
    ],
    headline: "p99_ms",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  const h = await startProduct(ctx, { dataDir: tmp(ctx, name) });
  try {
    const tenant = await createTenant(h.base, ctx.masterKey, `bench-${name}`);
    const s0 = performance.now();
    let seedMs = 0;
    const { runs, setup } = await body(h, tenant.api_key, S, () => (seedMs = Math.round(performance.now() - s0)));
    r.product = { how: `${howProduct(ctx)}; one request at a time from the bench process`, runs, setup: { ...setup, seed_ms: seedMs }, notes: [] };
  } finally {
    await h.stop();
  }
  r.targets = [tMedian(r, "p99_ms", "<=", 10, "p99 <= 10 ms", "ms")];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

/** mentions-send: POST a message mentioning 50 members (validated against membership, 50 mention rows). */
export function mentionsSend(ctx: Ctx): Promise<ScenarioResult> {
  return scenario(ctx, "mentions-send", "POST /rooms/{id}/messages with 50 mentions (room of 51 members)", "plain send", async (h, key, S, seeded) => {
    const users = Array.from({ length: S.mentions + 1 }, (_, i) => `u${i}`);
    const room = await createRoom(h.base, key, users[0]!, users);
    const mentions = users.slice(1);
    seeded();
    const runs = await measure(ctx, h, key, S.samples, (i) => [
      { method: "POST", path: `/rooms/${room}/messages`, user: users[0]!, body: { content: `hello ${i}`, mentions }, expect: 201 },
      { method: "POST", path: `/rooms/${room}/messages`, user: users[0]!, body: { content: `plain ${i}` }, expect: 201, ref: true },
    ]);
    return { runs, setup: { members: users.length, mentions: mentions.length } };
  });
}

/** reaction-hot: add then remove a reaction on a message that holds reactionUsers x reactionsPerUser reactions. */
export function reactionHot(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.smoke ? SMOKE : FULL;
  const total = S.reactionUsers * S.reactionsPerUser;
  return scenario(ctx, "reaction-hot", `POST a reaction on a message with ${total.toLocaleString("en-US")} reactions (then DELETE it: the reference)`, "DELETE it", async (h, key, _S, seeded) => {
    const users = Array.from({ length: S.reactionUsers }, (_, i) => `r${i}`);
    const room = await createRoom(h.base, key, "owner", ["owner", ...users]);
    const m = await post(h, key, "owner", `/rooms/${room}/messages`, { content: "hot" });
    const jobs = users.flatMap((u) => Array.from({ length: S.reactionsPerUser }, (_, k) => ({ u, k })));
    await pMap(jobs, 16, (j) => post(h, key, j.u, `/rooms/${room}/messages/${m.message_id}/reactions`, { reaction: `e${j.k}` }));
    const path = `/rooms/${room}/messages/${m.message_id}/reactions`;
    seeded();
    const runs = await measure(ctx, h, key, S.samples, (i) => [
      { method: "POST", path, user: "owner", body: { reaction: `e${i % S.reactionsPerUser}` }, expect: 200 },
      { method: "DELETE", path: `${path}/e${i % S.reactionsPerUser}`, user: "owner", expect: 204, ref: true },
    ]);
    return { runs, setup: { reactions: total } };
  });
}

/** thread-replies: GET a page of 50 replies (latest, and at a random position) of a thread with 10,000 replies. */
export function threadReplies(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.smoke ? SMOKE : FULL;
  return scenario(ctx, "thread-replies", `GET .../replies (50 per page, latest or a random before_seq) of a thread with ${S.replies.toLocaleString("en-US")} replies`, "history page", async (h, key, _S, seeded) => {
    const room = await createRoom(h.base, key, "a", ["a", "b"]);
    const root = await post(h, key, "a", `/rooms/${room}/messages`, { content: "root" });
    // Other top-level traffic between the replies, so the thread index is what keeps the page cheap.
    // S.replies replies plus one top-level message after every 10 replies.
    const total = S.replies + Math.floor(S.replies / 10);
    await pMap(Array.from({ length: total }, (_, i) => i), 16, (i) =>
      post(h, key, i % 2 ? "a" : "b", `/rooms/${room}/messages`, i % 11 === 10 ? { content: `noise ${i}` } : { content: `reply ${i}`, parent_id: root.message_id }),
    );
    const last = (await get(h, key, "a", `/rooms/${room}`)).last_seq as number;
    let x = 12345;
    seeded();
    const runs = await measure(ctx, h, key, S.samples, (i) => {
      x = (x * 1103515245 + 12345) % 2147483648;
      const q = i % 2 ? "" : `?before_seq=${2 + (x % last)}`;
      return [
        { method: "GET", path: `/rooms/${room}/messages/${root.message_id}/replies${q}`, user: "b", expect: 200 },
        { method: "GET", path: `/rooms/${room}/messages${q}`, user: "b", expect: 200, ref: true },
      ];
    });
    const replies = (await get(h, key, "a", `/rooms/${room}/messages/${root.message_id}`)).reply_count as number;
    return { runs, setup: { replies, messages: last } };
  });
}

/** rooms-mentions: GET /rooms (default page of 50) for a user in 1,000 rooms, each with unread mentions. */
export function roomsMentions(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.smoke ? SMOKE : FULL;
  return scenario(ctx, "rooms-mentions", `GET /rooms (limit 50) for a user in ${S.rooms.toLocaleString("en-US")} rooms, each with 3 unread messages mentioning them`, "same rooms, nothing unread", async (h, key, _S, seeded) => {
    const rooms = await pMap(Array.from({ length: S.rooms }, (_, i) => i), 16, () => createRoom(h.base, key, "writer", ["writer", "reader"]));
    await pMap(rooms, 16, async (room) => {
      for (let k = 0; k < 3; k++) await post(h, key, "writer", `/rooms/${room}/messages`, { content: `hey ${k}`, mentions: ["reader"] });
    });
    const first = await get(h, key, "reader", "/rooms");
    if (first.rooms[0]?.unread_mentions !== 3) throw new Error(`unexpected unread_mentions ${JSON.stringify(first.rooms[0])}`);
    seeded();
    const runs = await measure(ctx, h, key, S.samples, () => [
      { method: "GET", path: "/rooms", user: "reader", expect: 200 },
      { method: "GET", path: "/rooms", user: "writer", expect: 200, ref: true },
    ]);
    return { runs, setup: { rooms: S.rooms } };
  });
}

async function post(h: ServerHandle, key: string, user: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(h.base + path, { method: "POST", headers: { "x-api-key": key, "x-user-id": user, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`POST ${path} -> ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

async function get(h: ServerHandle, key: string, user: string, path: string): Promise<any> {
  const res = await fetch(h.base + path, { headers: { "x-api-key": key, "x-user-id": user } });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`GET ${path} -> ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}
