// reconnect-storm: N clients (rooms of 10 plus a bot) drop; the bot sends P messages to each room over
// REST; every client reconnects at once and must get its P messages replayed in order.
import { join } from "node:path";
import { createRoom, createTenant, pMap } from "../lib/api";
import type { Ctx } from "../lib/ctx";
import { drive } from "../lib/drive";
import type { Metric, ScenarioResult } from "../lib/report";
import { startBaseline, startProduct } from "../lib/server";
import { howBaseline, howProduct, M, sideFrom, target, tMedian, tmp, timing, tZero } from "./common";

const METRICS: Metric[] = [
  { key: "all_replayed_ms", label: "all replayed (ms)", unit: "ms", better: "lower" },
  M.throughput("replayed msg/s"),
  { key: "p50_ms", label: "client done p50 (ms)", unit: "ms", better: "lower" },
  { key: "p99_ms", label: "client done p99 (ms)", unit: "ms", better: "lower" },
  M.cpu,
  M.wait,
  M.rss,
  { key: "replayed", label: "messages replayed", unit: "count", better: "higher" },
  M.lost,
  M.dup,
  { key: "out_of_order", label: "out of order", unit: "count", better: "zero" },
  M.errors,
  M.loadgen,
];

export async function reconnectStorm(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const roomCount = Math.ceil(S.reconnectClients / S.reconnectRoomSize);
  const layout = Array.from({ length: roomCount }, (_, ri) => ({
    members: Array.from({ length: S.reconnectRoomSize }, (_, k) => `c${ri * S.reconnectRoomSize + k}`),
    bot: `bot${ri}`,
  }));
  const r: ScenarioResult = {
    name: "reconnect-storm",
    title: `${S.reconnectClients.toLocaleString("en-US")} clients in ${roomCount} rooms drop; ${S.reconnectPerRoom} messages arrive in each room (REST); all reconnect at once`,
    metrics: METRICS,
    headline: "all_replayed_ms",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  const base = { mode: "reconnect", perRoom: S.reconnectPerRoom, connectConcurrency: 200, reconnectConcurrency: 0, httpClients: 32, ...timing(ctx, 30, 120) };
  const extra = (f: Record<string, number>, s: Record<string, any>) => {
    f.all_replayed_ms = s.all_replayed_ms;
    f.replayed = s.ok;
    f.out_of_order = s.out_of_order;
  };
  {
    const srv = await startProduct(ctx, { dataDir: tmp(ctx, "reconnect") });
    try {
      const s0 = performance.now();
      const tenant = await createTenant(srv.base, ctx.masterKey, "bench-reconnect");
      const ids = await pMap(layout, 16, (l) => createRoom(srv.base, tenant.api_key, l.bot, [l.bot, ...l.members]));
      const setupMs = performance.now() - s0;
      const d = await drive(ctx, srv, { ...base, rooms: layout.map((l, i) => ({ id: ids[i]!, members: l.members, bot: l.bot })), target: target(srv, tenant.api_key) }, "reconnect product");
      r.product = sideFrom(howProduct(ctx), d, { rooms_setup_ms: setupMs, first_connect_ms: d.ready?.connect_ms }, extra);
    } finally {
      await srv.stop();
    }
  }
  {
    const srv = await startBaseline(ctx, "ws", ["--db", join(tmp(ctx, "reconnect-base"), "base.db"), "--sync", "full"]);
    try {
      const d = await drive(ctx, srv, { ...base, rooms: layout.map((l, i) => ({ id: `r${i}`, members: l.members, bot: l.bot })), target: target(srv, "none") }, "reconnect baseline");
      r.baseline = sideFrom(howBaseline(ctx, "Bun.serve websocket; replay = one bun:sqlite SELECT of messages after the client's seq, sent in open"), d, { first_connect_ms: d.ready?.connect_ms }, extra);
    } finally {
      await srv.stop();
    }
  }
  r.targets = [
    tMedian(r, "all_replayed_ms", "<=", 5000, "all replayed <= 5 s", "ms"),
    tZero(r, "lost", "0 lost"),
    tZero(r, "dup", "0 dup"),
    tZero(r, "out_of_order", "in order"),
    tMedian(r, "replayed", ">=", S.reconnectClients * S.reconnectPerRoom, `${(S.reconnectClients * S.reconnectPerRoom).toLocaleString("en-US")} replayed per run`, "count"),
  ];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}
