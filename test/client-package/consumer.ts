// Type-checked against the installed tarball (module nodenext, skipLibCheck off): the published
// declarations resolve and describe the API.
import { ChatClient, ChatClientError, createChatClient, type Message, type ChatClientOptions } from "@chatapi/client";

const options: ChatClientOptions = { url: "wss://chat.example.com/ws", getToken: async () => "token" };
const client: ChatClient = createChatClient(options);
client.on("message", (m: Message) => {
  const seq: number = m.seq;
  const text: string = m.content;
  void seq;
  void text;
});
export async function send(roomId: string): Promise<number> {
  try {
    return (await client.sendMessage(roomId, "hi")).seq;
  } catch (err) {
    if (err instanceof ChatClientError) return err.code === "rate_limit_exceeded" ? (err.retryAfterMs ?? 0) : -1;
    throw err;
  }
}
