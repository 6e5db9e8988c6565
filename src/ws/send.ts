// Sending to one socket: a frame Bun reports as not queued (0 = dropped) closes the socket with 1013,
// so nothing is lost silently; the client reconnects and recovers by replay.
import { WS_CLOSE } from "../errors";
import type { Socket } from "./registry";

/** Sends `text`; false when the socket is not open or dropped the frame (the socket is then closed with 1013). */
export function sendText(ws: Socket, text: string): boolean {
  if (ws.readyState !== 1) return false;
  // -1 = queued behind backpressure (still delivered), >0 = bytes written, 0 = dropped.
  if (ws.send(text) !== 0) return true;
  closeSlow(ws);
  return false;
}

/** Closes a socket that cannot keep up (1013: reconnect and replay). */
export function closeSlow(ws: Socket, reason = "slow consumer: reconnect to replay"): void {
  if (ws.readyState === 1) ws.close(WS_CLOSE.tryAgainLater, reason);
}

/** Resolves on the socket's next `drain`, or after `timeoutMs`, whichever comes first. */
export function waitForDrain(ws: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      if (ws.data.onDrain === done) ws.data.onDrain = undefined;
      resolve();
    }
    ws.data.onDrain = done;
  });
}
