// Isolation property test: two tenants, many users (namespaced "a-user-N" / "b-user-N" plus "shared"
// in both), random sequences of valid operations over REST and WebSocket. Afterwards a checker asserts
// that no response body, WS frame, webhook or /metrics text seen by one tenant contains another
// tenant's ids, that another tenant's ids answer 404, and that room content reaches only members.
import { deliveryCount } from "../../support/store";
import type { TestServer } from "../../helpers";
import { IsolationModel, type Observation } from "./isolation-model";
import type { Prng } from "./prng";
import { WebhookSink } from "./webhook-sink";

export interface IsolationFigures {
  ops: number;
  observations: number;
  frames: number;
  webhooks: number;
  crossProbes: number;
  violations: string[];
}

type Tag = "A" | "B";

interface TenantCtx {
  tag: Tag;
  id: string;
  key: string;
  users: string[];
  sockets: Map<string, WebSocket[]>;
}

/** Runs `ops` random operations; returns figures with every violation found. */
export async function runIsolation(s: TestServer, r: Prng, ops: number): Promise<IsolationFigures> {
  const sink = new WebhookSink();
  const model = new IsolationModel();
  const tenants: TenantCtx[] = [];
  try {
    for (const tag of ["A", "B"] as const) {
      const t = await s.createTenant(`iso-${tag}`, { webhook_url: sink.url(`/${tag}`), rate_limit: 1_000_000, user_message_rate: 1_000_000 });
      const prefix = tag === "A" ? "a-user-" : "b-user-";
      tenants.push({ tag, id: t.tenant_id, key: t.api_key, users: [...Array.from({ length: 6 }, (_, i) => `${prefix}${i}`), "shared"], sockets: new Map() });
      model.addTenant(tag, t.tenant_id);
    }
    const call = async (t: TenantCtx, user: string | null, method: string, path: string, body?: unknown, sentIds: string[] = []) => {
      const headers: Record<string, string> = { "x-api-key": t.key };
      if (user !== null) headers["x-user-id"] = user;
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(s.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      model.observe({ tenant: t.tag, where: `${method} ${path}`, text, allowed: sentIds });
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const connect = async (t: TenantCtx, user: string) => {
      const list = t.sockets.get(user) ?? [];
      if (list.length >= 2) return;
      const ws = new WebSocket(s.wsUrl, { headers: { "x-api-key": t.key, "x-user-id": user } } as any);
      const ready = new Promise<void>((res) => {
        ws.addEventListener("message", (e) => {
          const text = String(e.data);
          model.frame(t.tag, user, text);
          if (text.includes('"sync.complete"')) res();
        });
        ws.addEventListener("close", () => res());
      });
      list.push(ws);
      t.sockets.set(user, list);
      await ready;
    };
    const wsCall = async (t: TenantCtx, user: string, type: string, data: unknown): Promise<any> => {
      const ws = t.sockets.get(user)?.find((w) => w.readyState === 1);
      if (!ws) return null;
      const id = `iso${Math.random().toString(36).slice(2)}`;
      return await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), 5000);
        const onMsg = (e: MessageEvent) => {
          const f = JSON.parse(String(e.data));
          if (f.id === id) {
            clearTimeout(timer);
            ws.removeEventListener("message", onMsg);
            resolve(f);
          }
        };
        ws.addEventListener("message", onMsg);
        ws.send(JSON.stringify({ type, id, data }));
      });
    };

    for (let i = 0; i < ops; i++) {
      const t = r.pick(tenants);
      const other = tenants.find((x) => x !== t)!;
      const u = r.pick(t.users);
      model.beginOp();
      const rooms = model.roomsOf(t.tag);
      const myRooms = rooms.filter((x) => x.members.has(u));
      const kind = r.int(0, 99);
      if (kind < 10 || rooms.length === 0) {
        const type = r.pick(["group", "group", "channel", "dm"] as const);
        const others = t.users.filter((x) => x !== u);
        const members = type === "dm" ? [r.pick(others)] : others.filter(() => r.bool(0.4));
        if (type === "group" && members.length === 0) members.push(r.pick(others));
        const res = await call(t, u, "POST", "/rooms", { type, name: type === "dm" ? undefined : `room ${i}`, members, metadata: { tenant: t.tag } });
        if (res.status === 201) model.roomCreated(t.tag, res.body.room_id, type, [u, ...members]);
        else if (res.status !== 200) model.violation(`create room ${type} by ${u}: ${res.status}`);
      } else if (kind < 35 && myRooms.length) {
        const room = r.pick(myRooms);
        const content = `iso ${t.tag} ${i} ${r.word(6)}`;
        const viaWs = r.bool(0.4) && (t.sockets.get(u)?.length ?? 0) > 0;
        const msg = viaWs ? (await wsCall(t, u, "send_message", { room_id: room.id, content, client_msg_id: `c${i}` }))?.data : (await call(t, u, "POST", `/rooms/${room.id}/messages`, { content })).body;
        if (msg?.message_id) model.messageSent(t.tag, room.id, msg.message_id, u);
      } else if (kind < 42 && myRooms.length) {
        const room = r.pick(myRooms);
        const mine = model.messagesOf(t.tag, room.id).filter((m) => m.sender === u);
        if (mine.length) {
          const m = r.pick(mine);
          if (r.bool()) await call(t, u, "PATCH", `/rooms/${room.id}/messages/${m.id}`, { content: `edited ${i}` });
          else await call(t, u, "DELETE", `/rooms/${room.id}/messages/${m.id}`);
        }
      } else if (kind < 50 && myRooms.length) {
        const room = r.pick(myRooms);
        const res = await call(t, u, "POST", "/acks", { room_id: room.id, seq: model.lastSeq(t.tag, room.id) });
        if (res.status !== 200) model.violation(`ack by ${u}: ${res.status} ${JSON.stringify(res.body)}`);
      } else if (kind < 57 && rooms.length) {
        const room = r.pick(rooms);
        if (room.type === "dm") continue;
        const owner = [...room.members.entries()].find(([, role]) => role === "owner")?.[0];
        const target = r.pick(t.users);
        if (room.type === "channel" && !room.members.has(u) && r.bool()) {
          const res = await call(t, u, "POST", `/rooms/${room.id}/members`, { user_ids: [u] });
          if (res.status === 200) model.joined(t.tag, room.id, [u]);
        } else if (owner && !room.members.has(target)) {
          const res = await call(t, owner, "POST", `/rooms/${room.id}/members`, { user_ids: [target] });
          if (res.status === 200) model.joined(t.tag, room.id, [target]);
        }
      } else if (kind < 63 && myRooms.length) {
        const room = r.pick(myRooms);
        if (room.type === "dm") continue;
        const res = await call(t, u, "DELETE", `/rooms/${room.id}/members/${encodeURIComponent(u)}`);
        if (res.status === 204) model.left(t.tag, room.id, u);
      } else if (kind < 69) {
        const topic = r.pick(["news", "alerts", "shared-topic"]);
        const targets = r.pick([{ user_ids: [r.pick(t.users)] }, { topic_subscribers: true }, rooms.length ? { room_id: r.pick(rooms).id } : { user_ids: [] }]);
        const res = await call(t, null, "POST", "/notify", { topic, payload: { tenant: t.tag, i }, targets });
        if (res.status === 202) model.notified(t.tag, res.body.notification_id, topic, targets);
        else model.violation(`notify: ${res.status} ${JSON.stringify(res.body)}`);
      } else if (kind < 73) {
        const topic = r.pick(["news", "alerts", "shared-topic"]);
        if (r.bool(0.7)) {
          const res = await call(t, u, "POST", "/subscriptions", { topic });
          if (res.status === 201 || res.status === 200) model.subscribed(t.tag, u, topic, res.body.id);
        } else {
          const sub = model.subscriptionOf(t.tag, u);
          if (sub) {
            const res = await call(t, u, "DELETE", `/subscriptions/${sub.id}`);
            if (res.status === 204) model.unsubscribed(t.tag, u, sub.topic);
          }
        }
      } else if (kind < 78) {
        const n = model.notificationFor(t.tag, u);
        if (n) await call(t, u, "POST", `/notifications/${n}/ack`);
        await call(t, u, "GET", `/notifications?limit=50`);
      } else if (kind < 85) {
        await call(t, u, "GET", r.pick(["/rooms?limit=50", "/subscriptions", `/presence?user_ids=${encodeURIComponent(t.users.join(","))}`, "/admin/dead-letters"]));
        if (myRooms.length) await call(t, u, "GET", `/rooms/${r.pick(myRooms).id}/messages?limit=50`);
      } else if (kind < 91) {
        if (r.bool(0.7)) await connect(t, u);
        else {
          const ws = t.sockets.get(u)?.pop();
          ws?.close();
        }
      } else if (kind < 93 && myRooms.length) {
        await wsCall(t, u, r.pick(["typing.start", "typing.stop"]), { room_id: r.pick(myRooms).id });
      } else {
        // Another tenant's ids must be invisible: 404, never 403 or data.
        const probe = model.foreignProbe(other.tag, r);
        if (!probe) continue;
        const res = await call(t, u, probe.method, probe.path, probe.body, [probe.id]);
        model.crossProbes++;
        if (res.status !== 404) model.violation(`tenant ${t.tag} probing ${other.tag}'s ${probe.what}: ${probe.method} ${probe.path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }
      if (i % 50 === 49) model.observeMetrics(await (await fetch(`${s.url}/metrics`)).text());
    }
    model.beginOp();
    // Let in-flight webhooks and frames arrive before checking.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline && s.api.webhooks.inFlightCount() + (await pendingDeliveries(s)) > 0) await Bun.sleep(20);
    await Bun.sleep(100);
    model.observeMetrics(await (await fetch(`${s.url}/metrics`)).text());
    for (const ev of sink.all) model.webhook(ev.path.slice(1) as Tag, ev.raw, ev.body);
    const violations = model.check();
    return { ops, observations: model.observations.length, frames: model.frameCount, webhooks: sink.all.length, crossProbes: model.crossProbes, violations };
  } finally {
    for (const t of tenants) for (const list of t.sockets.values()) for (const ws of list) ws.close();
    sink.stop();
  }
}

function pendingDeliveries(s: TestServer): Promise<number> {
  return deliveryCount(s.api, "pending");
}

export type { Observation };
