// The connect replay (docs/reference/websocket.md "Replay on connect"), run as a background task of the socket:
// rooms are replayed a few at a time, yielding to other work between steps, so a user in thousands of
// rooms never holds the server for long. Until a room is replayed its live frames are held for this
// socket (live-buffer.ts); `release` then sends the held ones the replay did not cover and subscribes
// the room's topic in one synchronous step, so no live frame of a room overtakes its replay.
import type { MessageService } from "../chat/messages";
import type { Actor, Message } from "../chat/types";
import type { RoomReads } from "../storage/room-store";
import type { ReplayCoverage } from "./live-buffer";
import type { Socket } from "./registry";
import { closeSlow, sendText, waitForDrain } from "./send";

/** A notification as frames and GET /notifications show it. */
export interface NotificationFrameData {
  notification_id: string;
  topic: string;
  payload: unknown;
  created_at: string;
}

/** What the gateway needs from the notification service. */
export interface NotificationsPort {
  /** Unacked notifications of the user, oldest first (after `afterId` when given). */
  unacked(tenantId: string, userId: string, limit?: number, afterId?: string): Promise<NotificationFrameData[]>;
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
   * sync.gap instead (the first room replayed always goes out, so every connect makes progress); a
   * notification waits for the peer to read, and a peer that does not read within `drainTimeoutMs`
   * is closed with 1013.
   */
  maxBufferedBytes?: number;
  drainTimeoutMs?: number;
  /** The room is replayed up to `upToSeq`: send its held live frames past that, then subscribe its topic. */
  release(ws: Socket, roomId: string, upToSeq: number): void | Promise<void>;
  /** Most notifications replayed per connect (1000). */
  maxNotifications?: number;
  /** Waits for this socket's tenant's next turn (StepScheduler); default: the next event-loop iteration. */
  turn?: () => Promise<void>;
  /** Reports the time a step spent (StepScheduler.charge). */
  charge?: (ms: number) => void;
}

/** Rooms handled per step, and the time budget of one step, before yielding to other work. */
export const REPLAY_ROOMS_PER_STEP = 100;
export const REPLAY_STEP_BUDGET_MS = 3;
const NOTIFICATION_PAGE = 50;

/** Yields to the event loop: timers, I/O and other requests run before the next step. */
export const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

const gone = (ws: Socket) => ws.data.closed === true || ws.readyState !== 1;

/**
 * Subscribes every room of the user and sends, for every room with last_seq > last_ack (most recent
 * activity first), the missed messages in seq order (older ones beyond maxPerRoom as one sync.gap;
 * rooms after maxTotal, or that would exceed maxBufferedBytes unsent, as one sync.gap each), then
 * unacked notifications, then sync.complete. Resolves with the number of messages replayed and the
 * notifications sent (held live frames of those are not sent again).
 */
export async function replayOnConnect(ws: Socket, d: ReplayDeps): Promise<{ replayed: number; covered: ReplayCoverage }> {
  const covered: ReplayCoverage = { upToSeq: new Map(), notificationIds: new Set() };
  const done = (replayed: number) => ({ replayed, covered });
  const { tenantId, userId } = ws.data;
  let total = 0;
  let roomsTouched = 0;
  let stepStart = performance.now();
  let inStep = 0;
  const positions = await d.roomStore.userRoomPositions(tenantId, userId);
  for (let i = 0; i < positions.length; i++) {
    if (++inStep > REPLAY_ROOMS_PER_STEP || performance.now() - stepStart > REPLAY_STEP_BUDGET_MS) {
      d.charge?.(performance.now() - stepStart);
      await (d.turn ?? yieldTurn)();
      if (gone(ws)) return done(total);
      stepStart = performance.now();
      inStep = 1;
    }
    const roomId = positions[i]!.room_id;
    // Read again in this step: the room may have moved on, or the user left it, while we yielded.
    const r = i === 0 ? positions[0]! : await d.roomStore.replayPosition(tenantId, roomId, userId);
    if (gone(ws)) return done(total);
    // Not a member any more: its frames stay held and are dropped at the end (the membership change says so).
    if (!r) continue;
    if (r.last_seq > r.last_ack) {
      roomsTouched++;
      const sent = await replayRoom(ws, d, roomId, r, total);
      if (sent < 0) return done(total);
      total += sent;
    }
    // Everything up to last_seq is replayed, reported as a gap, or acked already.
    covered.upToSeq.set(roomId, r.last_seq);
    await d.release(ws, roomId, r.last_seq);
  }
  d.charge?.(performance.now() - stepStart);
  if (d.notifications && !(await replayNotifications(ws, d, d.notifications, covered))) return done(total);
  sendText(ws, JSON.stringify({ type: "sync.complete", rooms: roomsTouched }));
  return done(total);
}

/** One room's replay; returns the messages sent, or -1 when the socket is gone. */
async function replayRoom(ws: Socket, d: ReplayDeps, roomId: string, r: { last_seq: number; last_ack: number }, total: number): Promise<number> {
  const from = r.last_ack + 1;
  const wholeGap = () => (sendText(ws, JSON.stringify({ type: "sync.gap", room_id: roomId, from_seq: from, to_seq: r.last_seq })) ? 0 : -1);
  // The total is checked before each room: a room's replay is never cut in the middle.
  if (total >= d.maxTotal) return wholeGap();
  const start = r.last_seq - r.last_ack > d.maxPerRoom ? r.last_seq - d.maxPerRoom + 1 : from;
  const msgs: Message[] = [];
  let after = start - 1;
  // Pages of at most 200 (the history limit) until the room's last_seq as read now.
  while (after < r.last_seq) {
    const p = await d.messages.page(ws.data.tenantId, roomId, { after_seq: after, before_seq: r.last_seq + 1, limit: 200 });
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
    if (ws.getBufferedAmount() + bytes > d.maxBufferedBytes) return wholeGap();
  }
  if (start > from && !sendText(ws, JSON.stringify({ type: "sync.gap", room_id: roomId, from_seq: from, to_seq: start - 1 }))) return -1;
  for (const f of frames) if (!sendText(ws, f)) return -1;
  return msgs.length;
}

/**
 * Unacked notifications, oldest first, a page per step, within the same byte guard as messages: over
 * it, the replay waits for the peer to read; a peer that does not is closed with 1013 (false).
 */
async function replayNotifications(ws: Socket, d: ReplayDeps, port: NotificationsPort, covered: ReplayCoverage): Promise<boolean> {
  const max = d.maxNotifications ?? 1000;
  let sent = 0;
  let after: string | undefined;
  while (sent < max) {
    const page = await port.unacked(ws.data.tenantId, ws.data.userId, Math.min(NOTIFICATION_PAGE, max - sent), after);
    for (const n of page) {
      const text = JSON.stringify({ type: "notification", ...n });
      if (d.maxBufferedBytes !== undefined && ws.getBufferedAmount() > 0 && ws.getBufferedAmount() + text.length > d.maxBufferedBytes) {
        const deadline = performance.now() + (d.drainTimeoutMs ?? 30_000);
        while (ws.getBufferedAmount() + text.length > d.maxBufferedBytes) {
          const left = deadline - performance.now();
          if (gone(ws)) return false;
          if (left <= 0) {
            closeSlow(ws, "slow consumer during replay: reconnect to replay");
            return false;
          }
          await waitForDrain(ws, left);
        }
      }
      if (!sendText(ws, text)) return false;
      covered.notificationIds.add(n.notification_id);
      sent++;
    }
    if (page.length < NOTIFICATION_PAGE) break;
    after = page[page.length - 1]!.notification_id;
    await (d.turn ?? yieldTurn)();
    if (gone(ws)) return false;
  }
  return !gone(ws);
}
