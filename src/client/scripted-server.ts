// Test support only (not exported by index.ts): a tiny Bun WebSocket server that plays ChatAPI's
// side of the protocol from a script, so the client is tested without the real server.
import { afterEach } from "bun:test";
import type { ServerWebSocket } from "bun";
import type { ChatClient } from "./chat-client.ts";
import type { ChatClientEvents } from "./connection-types.ts";
import type { Message, SyncData, SyncReply } from "./types.ts";

/** A client frame as the scripted server received it. */
export interface ReceivedFrame {
  type: string;
  id?: string;
  data?: Record<string, unknown>;
}

/** One accepted socket, with what the handshake carried and every frame received. */
export interface ScriptedConnection {
  index: number;
  url: URL;
  headers: Headers;
  frames: ReceivedFrame[];
  closeCode: number | undefined;
  send(frame: object): void;
  reply(frame: ReceivedFrame, data: unknown): void;
  close(code: number, reason?: string): void;
  terminate(): void;
}

/** Hooks of a script; defaults: `connected` + `sync.complete` on open, `sync` from the store, `{}` otherwise. */
export interface Script {
  onOpen?: (conn: ScriptedConnection, server: ScriptedServer) => void;
  onFrame?: (conn: ScriptedConnection, frame: ReceivedFrame, server: ScriptedServer) => void;
}

/** A running scripted server. */
export interface ScriptedServer {
  url: string;
  connections: ScriptedConnection[];
  /** Messages by room, seq order (seq = index + 1); `sync` answers from here. */
  rooms: Map<string, Message[]>;
  addMessages(roomId: string, count: number): Message[];
  answerSync(conn: ScriptedConnection, frame: ReceivedFrame): void;
  sendDefaultHello(conn: ScriptedConnection): void;
  stop(): void;
}

interface SocketData {
  conn?: ScriptedConnection;
  url: string;
  headers: Headers;
}

/** Builds a Message of `roomId` with `seq`. */
export function makeMessage(roomId: string, seq: number): Message {
  return {
    message_id: `${roomId}-m${seq}`,
    room_id: roomId,
    seq,
    sender_id: "u2",
    content: `message ${seq}`,
    meta: null,
    client_msg_id: null,
    created_at: new Date(1_790_000_000_000 + seq).toISOString(),
    parent_id: null,
    reply_count: 0,
    last_reply_at: null,
    mentions: [],
    reactions: [],
    edited_at: null,
    deleted_at: null,
    attachments: [],
  };
}

/** History rules of docs/reference/rest.md, "History", applied to one room's messages. */
export function historyPage(messages: Message[], data: SyncData): SyncReply {
  const limit = data.limit ?? 50;
  const after = data.after_seq;
  const before = data.before_seq;
  const inWindow = messages.filter((m) => (after === undefined || m.seq > after) && (before === undefined || m.seq < before));
  if (after !== undefined) return { messages: inWindow.slice(0, limit), has_more: inWindow.length > limit };
  return { messages: inWindow.slice(-limit), has_more: inWindow.length > limit };
}

/** Starts a scripted server on 127.0.0.1, port 0. */
export function startScriptedServer(script: Script = {}): ScriptedServer {
  const connections: ScriptedConnection[] = [];
  const rooms = new Map<string, Message[]>();
  const scripted: ScriptedServer = {
    url: "",
    connections,
    rooms,
    addMessages(roomId, count) {
      const list = rooms.get(roomId) ?? [];
      rooms.set(roomId, list);
      const added: Message[] = [];
      for (let i = 0; i < count; i++) {
        const message = makeMessage(roomId, list.length + 1);
        list.push(message);
        added.push(message);
      }
      return added;
    },
    answerSync(conn, frame) {
      const data = frame.data as unknown as SyncData;
      conn.reply(frame, historyPage(rooms.get(data.room_id) ?? [], data));
    },
    sendDefaultHello(conn) {
      conn.send({ type: "connected", user_id: "u1", connection_id: `c${conn.index}`, heartbeat_s: 30 });
      conn.send({ type: "sync.complete", rooms: 0 });
    },
    stop() {
      server.stop(true);
    },
  };
  const onOpen = script.onOpen ?? ((conn) => scripted.sendDefaultHello(conn));
  const onFrame =
    script.onFrame ??
    ((conn, frame) => {
      if (frame.type === "sync") scripted.answerSync(conn, frame);
      else if (frame.type === "ping") conn.send({ type: "pong" });
      if (frame.id !== undefined && frame.type !== "sync") conn.reply(frame, {});
    });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, srv) {
      const data: SocketData = { url: request.url, headers: request.headers };
      if (srv.upgrade(request, { data })) return undefined;
      return new Response("expected a WebSocket upgrade", { status: 400 });
    },
    websocket: {
      data: {} as SocketData,
      open(ws: ServerWebSocket<SocketData>) {
        const conn: ScriptedConnection = {
          index: connections.length,
          url: new URL(ws.data.url),
          headers: ws.data.headers,
          frames: [],
          closeCode: undefined,
          send: (frame) => ws.send(JSON.stringify(frame)),
          reply: (frame, data) => ws.send(JSON.stringify({ type: "reply", id: frame.id, data })),
          close: (code, reason) => ws.close(code, reason),
          terminate: () => ws.terminate(),
        };
        ws.data.conn = conn;
        connections.push(conn);
        onOpen(conn, scripted);
      },
      message(ws: ServerWebSocket<SocketData>, text) {
        const conn = ws.data.conn;
        if (conn === undefined) return;
        const frame = JSON.parse(String(text)) as ReceivedFrame;
        conn.frames.push(frame);
        onFrame(conn, frame, scripted);
      },
      close(ws: ServerWebSocket<SocketData>, code) {
        if (ws.data.conn !== undefined) ws.data.conn.closeCode = code;
      },
    },
  });
  scripted.url = `ws://127.0.0.1:${server.port}/ws`;
  return scripted;
}

/** Polls `predicate` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor<T>(predicate: () => T, timeoutMs = 1500, label = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The server and client a test started; closeAfterEach closes and forgets them after every test. */
export interface TestResources {
  server?: ScriptedServer;
  client?: ChatClient;
}

/** Registers an afterEach that closes the client and stops the server the test put in the returned object. */
export function closeAfterEach(): TestResources {
  const live: TestResources = {};
  afterEach(() => {
    live.client?.close();
    live.server?.stop();
    live.client = undefined;
    live.server = undefined;
  });
  return live;
}

/** Every event of `type` the client emits from now on, in order. */
export function collect<K extends keyof ChatClientEvents>(c: ChatClient, type: K): ChatClientEvents[K][] {
  const events: ChatClientEvents[K][] = [];
  c.on(type, (event) => events.push(event));
  return events;
}
