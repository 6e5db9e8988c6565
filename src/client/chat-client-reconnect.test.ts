import { describe, expect, test } from "bun:test";
import { ChatClient } from "./chat-client.ts";
import type { ChatClientOptions } from "./connection-types.ts";
import type { ChatClientError } from "./errors.ts";
import { closeAfterEach, collect, makeMessage, startScriptedServer, waitFor, type Script } from "./scripted-server.ts";

const ROOM = "room-1";
const live = closeAfterEach();

function start(script: Script, options: Partial<ChatClientOptions> = {}) {
  const server = (live.server = startScriptedServer(script));
  const tokens: string[] = [];
  const client = (live.client = new ChatClient({
    url: server.url,
    getToken: async () => {
      tokens.push(`tok-${tokens.length + 1}`);
      return tokens[tokens.length - 1]!;
    },
    reconnectBaseDelayMs: 5,
    ...options,
  } as ChatClientOptions));
  return { server, client, tokens };
}

describe("reconnect", () => {
  test("after a server-side drop: fresh token, then resumes from lastSeq", async () => {
    const { server, client, tokens } = start({});
    const delivered: number[] = [];
    client.on("message", (m) => delivered.push(m.seq));
    const closes = collect(client, "close");
    const states = collect(client, "state");
    await client.connect();
    const first = server.connections[0]!;
    for (const m of server.addMessages(ROOM, 3)) first.send({ type: "message", ...m });
    await waitFor(() => delivered.length === 3, 1000, "first messages");

    // Sent while the client is away: neither replayed (the script has no acks) nor live.
    server.addMessages(ROOM, 3);
    // A request made while disconnected is queued and sent once the new socket is open.
    let queued: Promise<unknown> | undefined;
    const off = client.on("state", ({ state }) => {
      if (state !== "reconnecting") return;
      off();
      queued = client.listRooms({ limit: 5 });
    });
    first.terminate();
    await waitFor(() => delivered.length === 6 && queued, 1500, "resumed messages");
    await queued;
    expect(server.connections[1]!.frames.some((f) => f.type === "list_rooms")).toBe(true);

    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tokens).toEqual(["tok-1", "tok-2"]);
    expect(server.connections.map((c) => c.url.searchParams.get("token"))).toEqual(["tok-1", "tok-2"]);
    expect(closes[0]!.willReconnect).toBe(true);
    const resync = server.connections[1]!.frames.find((f) => f.type === "sync");
    expect(resync?.data).toEqual({ room_id: ROOM, after_seq: 3, limit: 200 });
    expect(states.map((s) => s.state)).toEqual(["connecting", "open", "reconnecting", "open"]);
    expect(client.connectionId).toBe("c1");
  });

  for (const code of [1001, 1011, 1013]) {
    test(`reconnects after close code ${code}`, async () => {
      const { server, client } = start({
        onOpen(conn, s) {
          s.sendDefaultHello(conn);
          if (conn.index === 0) conn.close(code, "bye");
        },
      });
      const closes = collect(client, "close");
      await client.connect();
      await waitFor(() => server.connections.length === 2 && client.state === "open", 1000, "second connection");
      expect(closes[0]).toEqual({ code, reason: "bye", willReconnect: true });
    });
  }

  test("no reconnect after 1008", async () => {
    const { server, client, tokens } = start({ onOpen: (conn) => conn.close(1008, "too many connections") });
    const closes = collect(client, "close");
    const error = (await client.connect().catch((e: unknown) => e)) as ChatClientError;
    expect(error.code).toBe("disconnected");
    expect(client.state).toBe("closed");
    expect(closes).toEqual([{ code: 1008, reason: "too many connections", willReconnect: false }]);
    expect(tokens.length).toBe(1);
    expect(server.connections.length).toBe(1);
  });

  test("close() by the app: pending requests reject, nothing reconnects", async () => {
    const { server, client } = start({ onFrame() {} });
    await client.connect();
    const pending = client.listRooms();
    await waitFor(() => server.connections[0]!.frames.length === 1);
    client.close();
    expect(((await pending.catch((e: unknown) => e)) as ChatClientError).code).toBe("disconnected");
    expect(client.state).toBe("closed");
    await waitFor(() => server.connections[0]!.closeCode === 1000, 1000, "server-side close");
    expect(server.connections.length).toBe(1);
  });

  test("an in-flight send is resent after a reconnect with the same client_msg_id", async () => {
    const { server, client } = start({
      onFrame(conn, frame) {
        if (conn.index === 0) conn.terminate();
        else conn.reply(frame, { ...makeMessage(ROOM, 1), client_msg_id: frame.data?.client_msg_id });
      },
    });
    await client.connect();
    const message = await client.sendMessage(ROOM, "hello");
    const [lost, resent] = server.connections.map((c) => c.frames[0]);
    expect(resent?.data?.client_msg_id).toBe(lost?.data?.client_msg_id);
    expect(message.client_msg_id).toBe(lost!.data!.client_msg_id as string);
  });

  test("a failing token provider is retried", async () => {
    const server = (live.server = startScriptedServer());
    let calls = 0;
    const client = (live.client = new ChatClient({
      url: `${server.url}?v=1`,
      reconnectBaseDelayMs: 5,
      getToken: async () => {
        if (++calls === 1) throw new Error("backend down");
        return "a b+c/=";
      },
    }));
    const errors = collect(client, "connect_error");
    await client.connect();
    expect(errors.length).toBe(1);
    const url = server.connections[0]!.url;
    expect(url.searchParams.get("token")).toBe("a b+c/=");
    expect(url.searchParams.get("v")).toBe("1");
  });
});

test("regression: close() from a connect_error handler ends the client (no reconnect loop)", async () => {
  const server = (live.server = startScriptedServer());
  let calls = 0;
  const client = (live.client = new ChatClient({
    url: server.url,
    reconnectBaseDelayMs: 1,
    getToken: async () => {
      calls++;
      throw new Error("backend down");
    },
  }));
  const closedClient = client;
  client.on("connect_error", () => closedClient.close());
  await expect(client.connect()).rejects.toThrow();
  expect(client.state).toBe("closed");
  const before = calls;
  // Had it scheduled a reconnect, the provider would be called again within a few backoff steps.
  const until = performance.now() + 100;
  while (performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  expect(calls).toBe(before);
  expect(server.connections.length).toBe(0);
});

describe("delays", () => {
  test("backoff delays stay under min(cap, base * 2^attempt) and reset after an open", async () => {
    const { server, client } = start(
      {
        onOpen(conn, s) {
          // Connections 0-5 fail before `connected`; 6 opens and then drops; 7 stays.
          if (conn.index === 6 || conn.index === 7) s.sendDefaultHello(conn);
          if (conn.index !== 7) conn.close(1011, "boom");
        },
      },
      { reconnectBaseDelayMs: 4, reconnectMaxDelayMs: 20, random: () => 0.999 },
    );
    const states = collect(client, "state");
    const reconnecting = () => states.filter((s) => s.state === "reconnecting");
    await client.connect();
    await waitFor(() => server.connections.length === 8 && client.state === "open", 1500, "eighth connection");
    const scheduled = reconnecting();
    const delays = scheduled.map((s) => s.delayMs);
    const bounds = [4, 8, 16, 20, 20, 20, 4];
    expect(scheduled.map((s) => s.attempt)).toEqual([1, 2, 3, 4, 5, 6, 1]);
    delays.forEach((delay, i) => {
      expect(delay).toBeLessThanOrEqual(bounds[i]!);
      expect(delay).toBeGreaterThanOrEqual(bounds[i]! - 1);
    });
  });

  test("server.shutdown: waits reconnect_after_ms plus jitter before reconnecting", async () => {
    const { server, client } = start(
      {
        onOpen(conn, s) {
          s.sendDefaultHello(conn);
          if (conn.index > 0) return;
          conn.send({ type: "server.shutdown", reconnect_after_ms: 60 });
          conn.close(1001, "shutting down");
        },
      },
      { random: () => 0.5 },
    );
    const states = collect(client, "state");
    const reconnecting = () => states.filter((s) => s.state === "reconnecting");
    let closedAt = 0;
    client.on("close", () => (closedAt = Date.now()));
    await client.connect();
    await waitFor(() => server.connections.length === 2, 1000, "reconnect");
    expect(reconnecting()[0]!.delayMs).toBe(75);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(70);
  });

  test("a socket that never sends connected is given up after connectTimeoutMs", async () => {
    const { server, client } = start(
      {
        onOpen(conn, s) {
          if (conn.index > 0) s.sendDefaultHello(conn);
        },
      },
      { connectTimeoutMs: 40 },
    );
    const closes = collect(client, "close");
    await client.connect();
    expect(server.connections.length).toBe(2);
    expect(closes[0]).toEqual({ code: 4000, reason: "connect timeout", willReconnect: true });
  });

  test("the heartbeat drops a silent socket and reconnects", async () => {
    const { server, client } = start(
      {
        onFrame(conn, frame) {
          // The first server answers nothing: a half-open connection.
          if (conn.index > 0 && frame.type === "ping") conn.send({ type: "pong" });
        },
      },
      { heartbeatIntervalMs: 30 },
    );
    const closes = collect(client, "close");
    await client.connect();
    await waitFor(() => server.connections.length === 2 && client.state === "open", 1500, "reconnect");
    expect(server.connections[0]!.frames.some((f) => f.type === "ping")).toBe(true);
    expect(closes[0]).toEqual({ code: 4000, reason: "heartbeat timeout", willReconnect: true });
  });
});
