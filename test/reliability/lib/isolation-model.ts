// The model and checker of the isolation property test: which tenant owns every id, who was a member
// of which room after each operation, who received each notification; then every observation
// (response body, WS frame, webhook, /metrics) is checked against it.
import type { Prng } from "./prng";

type Tag = "A" | "B";
type Role = "owner" | "admin" | "member";

export interface Observation {
  tenant: Tag;
  where: string;
  text: string;
  /** Ids the request itself named (cross-tenant probes): an error message may echo them. */
  allowed: string[];
}

interface RoomModel {
  tag: Tag;
  id: string;
  type: "dm" | "group" | "channel";
  members: Map<string, Role>;
  /** Membership after each operation that changed it. */
  history: { op: number; members: Set<string> }[];
  lastSeq: number;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const NAMESPACED = /\b([ab])-user-\d+\b/g;
const ROOM_FRAMES = new Set(["message", "message.edited", "message.deleted", "ack.received", "typing", "room.updated", "member.joined", "member.left", "sync.gap"]);

/** The expected state of both tenants, built from the operations' answers. */
export class IsolationModel {
  readonly observations: Observation[] = [];
  private readonly frames: { tag: Tag; user: string; text: string; op: number }[] = [];
  private readonly hooks: { tag: Tag; raw: string; body: any }[] = [];
  private readonly metrics: string[] = [];
  private readonly owner = new Map<string, Tag>();
  private readonly tenantIds = new Map<Tag, string>();
  private readonly rooms = new Map<string, RoomModel>();
  private readonly messages = new Map<string, { tag: Tag; room: string; sender: string; op: number }>();
  private readonly notifications = new Map<string, { tag: Tag; recipients: Set<string> }>();
  private readonly subs = new Map<string, Map<string, string>>();
  private readonly problems: string[] = [];
  private op = 0;
  crossProbes = 0;

  get frameCount(): number {
    return this.frames.length;
  }

  addTenant(tag: Tag, id: string): void {
    this.tenantIds.set(tag, id);
    this.owner.set(id, tag);
  }

  beginOp(): void {
    this.op++;
  }

  violation(text: string): void {
    this.problems.push(text);
  }

  observe(o: Observation): void {
    this.observations.push(o);
  }

  frame(tag: Tag, user: string, text: string): void {
    this.frames.push({ tag, user, text, op: this.op });
  }

  webhook(tag: Tag, raw: string, body: any): void {
    this.hooks.push({ tag, raw, body });
  }

  observeMetrics(text: string): void {
    this.metrics.push(text);
  }

  private snapshot(room: RoomModel): void {
    room.history.push({ op: this.op, members: new Set(room.members.keys()) });
  }

  roomCreated(tag: Tag, id: string, type: RoomModel["type"], users: string[]): void {
    const members = new Map<string, Role>();
    users.forEach((u, i) => members.set(u, i === 0 && type !== "dm" ? "owner" : "member"));
    const room: RoomModel = { tag, id, type, members, history: [], lastSeq: 0 };
    this.rooms.set(id, room);
    this.owner.set(id, tag);
    this.snapshot(room);
  }

  joined(_tag: Tag, roomId: string, users: string[]): void {
    const room = this.rooms.get(roomId)!;
    for (const u of users) if (!room.members.has(u)) room.members.set(u, "member");
    this.snapshot(room);
  }

  left(_tag: Tag, roomId: string, user: string): void {
    const room = this.rooms.get(roomId)!;
    const role = room.members.get(user);
    room.members.delete(user);
    if (role === "owner" && ![...room.members.values()].includes("owner")) {
      const next = [...room.members.entries()].find(([, r]) => r === "admin")?.[0] ?? room.members.keys().next().value;
      if (next !== undefined) room.members.set(next, "owner");
    }
    this.snapshot(room);
  }

  roomsOf(tag: Tag): RoomModel[] {
    return [...this.rooms.values()].filter((r) => r.tag === tag);
  }

  messageSent(tag: Tag, roomId: string, id: string, sender: string): void {
    this.rooms.get(roomId)!.lastSeq++;
    this.messages.set(id, { tag, room: roomId, sender, op: this.op });
    this.owner.set(id, tag);
  }

  messagesOf(tag: Tag, roomId: string): { id: string; sender: string }[] {
    return [...this.messages.entries()].filter(([, m]) => m.tag === tag && m.room === roomId).map(([id, m]) => ({ id, sender: m.sender }));
  }

  lastSeq(_tag: Tag, roomId: string): number {
    return this.rooms.get(roomId)!.lastSeq;
  }

  subscribed(tag: Tag, user: string, topic: string, id: string): void {
    const key = `${tag}\u0000${user}`;
    if (!this.subs.has(key)) this.subs.set(key, new Map());
    this.subs.get(key)!.set(topic, id);
    this.owner.set(id, tag);
  }

  unsubscribed(tag: Tag, user: string, topic: string): void {
    this.subs.get(`${tag}\u0000${user}`)?.delete(topic);
  }

  subscriptionOf(tag: Tag, user: string): { id: string; topic: string } | null {
    const first = this.subs.get(`${tag}\u0000${user}`)?.entries().next().value;
    return first ? { topic: first[0], id: first[1] } : null;
  }

  notified(tag: Tag, id: string, topic: string, targets: { user_ids?: string[]; room_id?: string; topic_subscribers?: boolean }): void {
    const recipients = new Set(targets.user_ids ?? []);
    if (targets.room_id) for (const u of this.rooms.get(targets.room_id)!.members.keys()) recipients.add(u);
    if (targets.topic_subscribers) {
      for (const [key, topics] of this.subs) if (key.startsWith(`${tag}\u0000`) && topics.has(topic)) recipients.add(key.slice(2));
    }
    this.notifications.set(id, { tag, recipients });
    this.owner.set(id, tag);
  }

  notificationFor(tag: Tag, user: string): string | null {
    for (const [id, n] of this.notifications) if (n.tag === tag && n.recipients.has(user)) return id;
    return null;
  }

  /** A request naming one of `tag`'s ids, made by the other tenant: must be 404. */
  foreignProbe(tag: Tag, r: Prng): { method: string; path: string; body?: unknown; id: string; what: string } | null {
    const rooms = this.roomsOf(tag);
    const msgs = [...this.messages.entries()].filter(([, m]) => m.tag === tag);
    const notes = [...this.notifications.entries()].filter(([, n]) => n.tag === tag);
    const subs = [...this.subs.entries()].filter(([k]) => k.startsWith(`${tag}\u0000`)).flatMap(([, m]) => [...m.values()]);
    const k = r.int(0, 7);
    if (k <= 4 && rooms.length) {
      const id = r.pick(rooms).id;
      const [method, path, body] = r.pick<[string, string, unknown]>([
        ["GET", `/rooms/${id}`, undefined],
        ["GET", `/rooms/${id}/messages`, undefined],
        ["GET", `/rooms/${id}/members`, undefined],
        ["POST", `/rooms/${id}/messages`, { content: "probe" }],
        ["POST", `/rooms/${id}/members`, { user_ids: ["shared"] }],
        ["PATCH", `/rooms/${id}`, { name: "probe" }],
        ["POST", "/acks", { room_id: id, seq: 0 }],
      ]);
      return { method, path, body, id, what: "room" };
    }
    if (k === 5 && msgs.length) {
      const [id, m] = r.pick(msgs);
      return { method: r.pick(["GET", "DELETE"]), path: `/rooms/${m.room}/messages/${id}`, id, what: "message" };
    }
    if (k === 6 && notes.length) {
      const id = r.pick(notes)[0];
      return { method: "POST", path: `/notifications/${id}/ack`, id, what: "notification" };
    }
    if (subs.length) {
      const id = r.pick(subs);
      return { method: "DELETE", path: `/subscriptions/${id}`, id, what: "subscription" };
    }
    return null;
  }

  private memberDuring(room: RoomModel, user: string, fromOp: number, toOp: number): boolean {
    let state: Set<string> | null = null;
    for (const h of room.history) {
      if (h.op <= fromOp) state = h.members;
      else if (h.op <= toOp && h.members.has(user)) return true;
    }
    return !!state?.has(user);
  }

  private foreignTokens(tag: Tag, text: string, allowed: string[] = []): string[] {
    const out: string[] = [];
    for (const m of text.matchAll(UUID)) {
      const o = this.owner.get(m[0]);
      if (o && o !== tag && !allowed.includes(m[0])) out.push(m[0]);
    }
    const mine = tag === "A" ? "a" : "b";
    for (const m of text.matchAll(NAMESPACED)) if (m[1] !== mine) out.push(m[0]);
    return out;
  }

  /** Every violation of isolation and of "non-members never receive room content". */
  check(): string[] {
    const v = [...this.problems];
    for (const o of this.observations) {
      const bad = this.foreignTokens(o.tenant, o.text, o.allowed);
      if (bad.length) v.push(`response to ${o.tenant} ${o.where} names the other tenant's ${bad.join(", ")}: ${o.text.slice(0, 200)}`);
    }
    for (const f of this.frames) {
      const bad = this.foreignTokens(f.tag, f.text);
      if (bad.length) v.push(`frame to ${f.tag}/${f.user} names the other tenant's ${bad.join(", ")}: ${f.text.slice(0, 200)}`);
      const frame = JSON.parse(f.text);
      if (frame.type === "notification") {
        const n = this.notifications.get(frame.notification_id);
        if (n && (n.tag !== f.tag || !n.recipients.has(f.user))) v.push(`notification ${frame.notification_id} reached non-recipient ${f.tag}/${f.user}`);
        continue;
      }
      if (!ROOM_FRAMES.has(frame.type) || typeof frame.room_id !== "string") continue;
      const room = this.rooms.get(frame.room_id);
      if (!room || room.tag !== f.tag) {
        v.push(`frame for room ${frame.room_id} (not ${f.tag}'s) reached ${f.tag}/${f.user}`);
        continue;
      }
      const m = frame.type === "message" ? this.messages.get(frame.message_id) : undefined;
      // A message may reach whoever was a member at some point between its send and the frame's
      // arrival (live, or replayed after a join); other room frames: the last few operations.
      const ok = m ? this.memberDuring(room, f.user, m.op, f.op) : this.memberDuring(room, f.user, f.op - 4, f.op) || ((frame.type === "member.joined" || frame.type === "member.left") && frame.user_id === f.user);
      if (!ok) v.push(`${frame.type} of room ${room.id} (seq ${frame.seq ?? "-"}) reached non-member ${f.tag}/${f.user}`);
    }
    for (const h of this.hooks) {
      const bad = this.foreignTokens(h.tag, h.raw);
      if (bad.length) v.push(`webhook to ${h.tag} names the other tenant's ${bad.join(", ")}`);
      if (h.body?.tenant_id !== this.tenantIds.get(h.tag)) v.push(`webhook for tenant ${h.body?.tenant_id} delivered to ${h.tag}'s URL`);
      if (h.body?.event === "message.new") {
        const m = this.messages.get(h.body.message?.message_id);
        const room = this.rooms.get(h.body.room_id);
        if (m && room && (!this.memberDuring(room, h.body.recipient_id, m.op, m.op) || h.body.recipient_id === m.sender)) v.push(`message.new webhook to non-member ${h.body.recipient_id} of room ${room.id}`);
      } else if (h.body?.event === "notification.new") {
        const n = this.notifications.get(h.body.notification?.notification_id);
        if (n && !n.recipients.has(h.body.recipient_id)) v.push(`notification.new webhook to non-recipient ${h.body.recipient_id}`);
      }
    }
    for (const text of this.metrics) {
      const ids = [...text.matchAll(UUID), ...text.matchAll(NAMESPACED)].map((m) => m[0]);
      if (ids.length) v.push(`/metrics names tenant data: ${ids.slice(0, 5).join(", ")}`);
    }
    return v;
  }
}
