// The connect replay (docs/reference/websocket.md "Replay on connect"), run after `open` while the socket's live
// frames are held back (live-buffer.ts).
import type { MessageService } from "../chat/messages";
import type { Actor, Message } from "../chat/types";
import type { RoomReads } from "../storage/room-store";
import type { ReplayCoverage } from "./live-buffer";
import type { Socket } from "./registry";

/** A notification as frames and GET /notifications show it. */
export interface NotificationFrameData {
  notification_id: string;
  topic: string;
  payload: unknown;
  created_at: string;
}

/** What the gateway needs from the notification service. */
export interface NotificationsPort {
  /** Unacked notifications of the user, oldest first. */
  unacked(tenantId: string, userId: string): Promise<NotificationFrameData[]>;
  /** Marks one as acked (404 for another user's). */
  ack(actor: Actor, notificationId: string): Promise<void> | void;
}

export interface ReplayDeps {
  roomStore: RoomReads;
  messages: MessageService;
  notifications?: NotificationsPort;
  maxPerRoom: number;
  maxTotal: number;
  /**
   * WS_BACKPRESSURE_BYTES: a room whose replay would push the socket's unsent bytes past it gets one
   * sync.gap instead (the first room replayed always goes out, so every connect makes progress).
   */
  maxBufferedBytes?: number;
}

/**
 * Sends, for every room with last_seq > last_ack (most recent activity first), the missed messages in
 * seq order (older ones beyond maxPerRoom as one sync.gap; rooms after maxTotal, or that would exceed
 * maxBufferedBytes unsent, as one sync.gap each), then unacked notifications, then sync.complete.
 * Returns the number of messages replayed and what the replay covered. A socket closed meanwhile
 * stops the replay early.
 */
export async function replayOnConnect(ws: Socket, d: ReplayDeps): Promise<{ replayed: number; covered: ReplayCoverage }> {
  const { tenantId, userId } = ws.data;
  let total = 0;
  let roomsTouched = 0;
  const covered: ReplayCoverage = { upToSeq: new Map(), notificationIds: new Set() };
  const wholeGap = (r: { room_id: string; last_seq: number }, from: number) => {
    covered.upToSeq.set(r.room_id, r.last_seq);
    ws.send(JSON.stringify({ type: "sync.gap", room_id: r.room_id, from_seq: from, to_seq: r.last_seq }));
  };
  for (const r of await d.roomStore.unackedRooms(tenantId, userId)) {
    if (ws.readyState !== 1) return { replayed: total, covered };
    roomsTouched++;
    const from = r.last_ack + 1;
    // The total is checked before each room: a room's replay is never cut in the middle.
    if (total >= d.maxTotal) {
      wholeGap(r, from);
      continue;
    }
    let start = from;
    if (r.last_seq - r.last_ack > d.maxPerRoom) start = r.last_seq - d.maxPerRoom + 1;
    const msgs: Message[] = [];
    let after = start - 1;
    // Pages of at most 200 (the history limit) until the room's last_seq as read now.
    while (after < r.last_seq) {
      const p = await d.messages.page(tenantId, r.room_id, { after_seq: after, before_seq: r.last_seq + 1, limit: 200 });
      if (p.messages.length === 0) break;
      msgs.push(...p.messages);
      after = p.messages[p.messages.length - 1]!.seq;
      if (!p.has_more) break;
    }
    const frames = msgs.map((m) => JSON.stringify({ type: "message", ...m }));
    // Without this, a backlog bigger than the socket buffers left the fresh socket over the
    // slow-consumer limit at every connect (closed 1013, reconnect, same replay: never connected).
    if (d.maxBufferedBytes !== undefined && total > 0) {
      const bytes = frames.reduce((n, f) => n + Buffer.byteLength(f), 0);
      if (ws.getBufferedAmount() + bytes > d.maxBufferedBytes) {
        wholeGap(r, from);
        continue;
      }
    }
    if (start > from) ws.send(JSON.stringify({ type: "sync.gap", room_id: r.room_id, from_seq: from, to_seq: start - 1 }));
    for (const f of frames) ws.send(f);
    covered.upToSeq.set(r.room_id, r.last_seq);
    total += msgs.length;
  }
  if (d.notifications) {
    for (const n of await d.notifications.unacked(tenantId, userId)) {
      covered.notificationIds.add(n.notification_id);
      ws.send(JSON.stringify({ type: "notification", ...n }));
    }
  }
  ws.send(JSON.stringify({ type: "sync.complete", rooms: roomsTouched }));
  return { replayed: total, covered };
}
