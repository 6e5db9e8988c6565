// ws-rooms, ws-latency and fanout: WebSocket sends and deliveries, product vs raw Bun pub/sub.
import { join } from "node:path";
import { createRoom, createTenant, pMap } from "../lib/api";
import type { Ctx } from "../lib/ctx";
import { drive } from "../lib/drive";
import type { ScenarioResult } from "../lib/report";
import { startBaseline, startProduct } from "../lib/server";
import type { WsCfg } from "../loadgen";
import { howBaseline, howProduct, M, sideFrom, target, tMedian, tmp, tRatio, timing, tZero } from "./common";

type Pattern = WsCfg["pattern"];

/** Runs one WS load pattern over `layout` (rooms of members) against the product, then the baseline. */
async function wsBoth(ctx: Ctx, r: ScenarioResult, name: string, layout: string[][], pattern: Pattern, latencyEvery: number): Promise<void> {
  const base = { mode: "ws", pattern, pad: 64, connectConcurrency: 200, latencyEvery, drainSeconds: 10, ...timing(ctx, 15, 120) };
  {
    const srv = await startProduct(ctx, { dataDir: tmp(ctx, name) });
    try {
      const s0 = performance.now();
      const tenant = await createTenant(srv.base, ctx.masterKey, `bench-${name}`);
      const ids = await pMap(layout, 8, (members) => createRoom(srv.base, tenant.api_key, members[0]!, members));
      const setupMs = performance.now() - s0;
      const d = await drive(ctx, srv, { ...base, rooms: layout.map((m, i) => ({ id: ids[i]!, members: m })), target: target(srv, tenant.api_key) }, `${name} product`);
      r.product = sideFrom(howProduct(ctx), d, { rooms_setup_ms: setupMs, connect_ms: d.ready?.connect_ms });
    } finally {
      await srv.stop();
    }
  }
  {
    const srv = await startBaseline(ctx, "ws", ["--db", join(tmp(ctx, `${name}-base`), "base.db")]);
    try {
      const d = await drive(ctx, srv, { ...base, rooms: layout.map((m, i) => ({ id: `r${i}`, members: m })), target: target(srv, "none") }, `${name} baseline`);
      r.baseline = sideFrom(howBaseline(ctx, "Bun.serve websocket, topic per room, JSON.parse + server.publish + reply, no persistence"), d, { connect_ms: d.ready?.connect_ms });
    } finally {
      await srv.stop();
    }
  }
}

function roomsOf(rooms: number, size: number, prefix: string): string[][] {
  return Array.from({ length: rooms }, (_, ri) => Array.from({ length: size }, (_, k) => `${prefix}${ri * size + k}`));
}

export async function wsRooms(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const r: ScenarioResult = {
    name: "ws-rooms",
    title: `${S.wsRooms * S.wsRoomSize} sockets in ${S.wsRooms} rooms of ${S.wsRoomSize}; members send over WS (${S.wsInflightPerRoom} in flight per room, rotating senders)`,
    metrics: [M.throughput("messages in/s"), M.deliveries, M.p50, M.p99, M.max, M.cpu, M.wait, M.perCore("msg in per CPU-second"), M.disk, M.rss, M.lost, M.dup, M.errors, M.loadgen],
    headline: "throughput",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  await wsBoth(ctx, r, "ws-rooms", roomsOf(S.wsRooms, S.wsRoomSize, "w"), { kind: "closed", inflightPerRoom: S.wsInflightPerRoom }, 1);
  r.targets = [
    tMedian(r, "throughput", ">=", 15_000, ">= 15,000 msg/s in", "rate"),
    tMedian(r, "deliveries_per_s", ">=", 150_000, ">= 150,000 deliveries/s", "rate"),
    tMedian(r, "p99_ms", "<=", 25, "p99 <= 25 ms", "ms"),
    tZero(r, "lost", "0 lost"),
    tZero(r, "dup", "0 dup"),
  ];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

export async function wsLatency(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const r: ScenarioResult = {
    name: "ws-latency",
    title: `${S.wsRooms * S.wsRoomSize} sockets in ${S.wsRooms} rooms of ${S.wsRoomSize}; ${S.latencyRate} msg/s paced (open loop), send-to-receive latency of every delivery`,
    metrics: [M.p50, M.p99, M.max, M.throughput("messages in/s"), M.deliveries, M.cpu, M.wait, M.rss, M.lost, M.dup, M.errors, M.loadgen],
    headline: "p50_ms",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  await wsBoth(ctx, r, "ws-latency", roomsOf(S.wsRooms, S.wsRoomSize, "l"), { kind: "rate", perSecond: S.latencyRate }, 1);
  r.targets = [tMedian(r, "p50_ms", "<=", 2, "p50 <= 2 ms", "ms"), tMedian(r, "p99_ms", "<=", 10, "p99 <= 10 ms", "ms"), tZero(r, "lost", "0 lost")];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

export async function fanout(ctx: Ctx): Promise<ScenarioResult> {
  const S = ctx.sizes;
  const t0 = performance.now();
  const r: ScenarioResult = {
    name: "fanout",
    title: `one room of ${S.fanoutMembers.toLocaleString("en-US")} members, all connected; one member sends over WS (next send when ${S.fanoutWindow} earlier messages are not yet fully delivered)`,
    metrics: [M.deliveries, M.throughput("messages/s"), M.p50, M.p99, M.max, M.cpu, M.wait, M.deliveriesPerCore, M.rss, M.lost, M.dup, M.errors, M.loadgen],
    headline: "deliveries_per_s",
    product: null,
    baseline: null,
    targets: [],
    seconds: 0,
  };
  // Near 1M deliveries/s the load generator's core saturates before the server's: the ratio target is
  // therefore taken on deliveries per server CPU-second, not on wall-clock deliveries/s.
  await wsBoth(ctx, r, "fanout", roomsOf(1, S.fanoutMembers, "f"), { kind: "window", window: S.fanoutWindow }, ctx.smoke ? 1 : 4);
  r.targets = [tMedian(r, "deliveries_per_s", ">=", 500_000, ">= 500,000 deliveries/s", "rate"), tZero(r, "lost", "0 lost"), tZero(r, "dup", "0 dup"), tRatio(r, "deliveries_per_core", ">=", 0.5, ">= 50% of raw publish (deliveries per server CPU-second)")];
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}
