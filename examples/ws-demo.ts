// The README's WebSocket demo as a runnable program: connects as a user with the tenant key in the
// handshake headers, waits for the replay to finish (`sync.complete`), sends one message, waits
// until its own message comes back (the `reply` and the live `message` frame), closes, exits 0.
//
//   KEY=<tenant api key> ROOM=<room id> bun examples/ws-demo.ts
//   optional: BASE (default http://localhost:8080), USER_ID (default bob; must be a member of ROOM)
const base = process.env.BASE ?? "http://localhost:8080";
const key = process.env.KEY;
const room = process.env.ROOM;
const userId = process.env.USER_ID ?? "bob";
if (!key || !room) {
  console.error("usage: KEY=<tenant api key> ROOM=<room id> [BASE=http://localhost:8080] [USER_ID=bob] bun examples/ws-demo.ts");
  process.exit(2);
}

interface Frame {
  type: string;
  id?: string;
  data?: { message_id?: string; content?: string };
  message_id?: string;
  content?: string;
  error?: string;
  message?: string;
}

const content = `hi from ${userId} at ${new Date().toISOString()}`;
// Bun's WebSocket takes handshake headers (the DOM typings know only protocols, hence the cast);
// a browser cannot send headers and uses a token from POST /ws/token instead.
type WebSocketWithHeaders = new (url: string, options: { headers: Record<string, string> }) => WebSocket;
const ws = new (WebSocket as unknown as WebSocketWithHeaders)(`${base.replace(/^http/, "ws")}/ws`, { headers: { "X-API-Key": key, "X-User-Id": userId } });
let sent = false;
let replied = false;
let echoed = false;
const giveUp = setTimeout(() => {
  console.error("no answer within 10 s");
  process.exit(1);
}, 10_000);

ws.onmessage = (event) => {
  const frame = JSON.parse(String(event.data)) as Frame;
  console.log(frame.type, JSON.stringify(frame));
  if (frame.type === "sync.complete" && !sent) {
    // Replay of missed messages is done: send, with a request id to match the reply.
    sent = true;
    ws.send(JSON.stringify({ type: "send_message", id: "1", data: { room_id: room, content } }));
  } else if (frame.type === "reply" && frame.id === "1") {
    replied = frame.data?.content === content;
  } else if (frame.type === "error") {
    console.error(`error frame: ${frame.error}: ${frame.message}`);
    ws.close(1000, "error");
    process.exitCode = 1;
  } else if (frame.type === "message" && frame.content === content) {
    echoed = true;
  }
  if (replied && echoed) ws.close(1000, "done");
};
ws.onclose = (event) => {
  clearTimeout(giveUp);
  console.log("closed", event.code, event.reason);
  if (!(replied && echoed)) process.exitCode = 1;
};
