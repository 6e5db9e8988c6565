// Runs inside a scratch project that installed the @chatapi/client tarball (copied there by
// client-package.test.ts): bob hears alice's message live, alice gets her reply, both close.
// CHATAPI_AUTH=token: browser-style single-use tokens from POST /ws/token (fetch);
// CHATAPI_AUTH=key: the tenant key and the user as handshake headers (server-side runtimes).
import { ChatClientError, createChatClient } from "@chatapi/client";

const { CHATAPI_URL: base, CHATAPI_KEY: apiKey, CHATAPI_ROOM: roomId, CHATAPI_AUTH: auth } = process.env;
const wsUrl = `${base.replace(/^http/, "ws")}/ws`;

function client(userId) {
  if (auth === "key") return createChatClient({ url: wsUrl, apiKey, userId });
  return createChatClient({
    url: wsUrl,
    getToken: async () => {
      const res = await fetch(`${base}/ws/token`, { method: "POST", headers: { "x-api-key": apiKey, "x-user-id": userId } });
      if (!res.ok) throw new Error(`POST /ws/token: ${res.status}`);
      return (await res.json()).token;
    },
  });
}

const timeout = setTimeout(() => {
  console.error("round trip timed out");
  process.exit(1);
}, 15_000);

const alice = client("alice");
const bob = client("bob");
// Bob may first get earlier messages of the room replayed on connect: wait for this one.
const seen = new Map();
let onSeen = () => {};
bob.on("message", (m) => {
  seen.set(m.message_id, m);
  onSeen();
});
await Promise.all([alice.connect(), bob.connect()]);
const content = `hello from ${typeof Bun === "undefined" ? `node ${process.versions.node}` : `bun ${Bun.version}`}`;
const sent = await alice.sendMessage(roomId, content);
const received = seen.get(sent.message_id) ?? (await new Promise((resolve) => (onSeen = () => seen.has(sent.message_id) && resolve(seen.get(sent.message_id)))));
let errorCode = null;
try {
  await alice.sendMessage("no-such-room", "x");
} catch (err) {
  errorCode = err instanceof ChatClientError ? err.code : `not a ChatClientError: ${err}`;
}
alice.close();
bob.close();
clearTimeout(timeout);
console.log(JSON.stringify({ sent: { seq: sent.seq, content: sent.content, sender: sent.sender_id }, received: { seq: received.seq, content: received.content, sender: received.sender_id }, errorCode, userId: alice.userId }));
