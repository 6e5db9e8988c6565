// Structured JSON logging (pino). Never log secrets or message content: callers pass ids only.
import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config";

export type { Logger };

/** A JSON-lines logger with ISO timestamps; `destination` lets tests capture the output. */
export function createLogger(level: LogLevel, destination?: DestinationStream, base: Record<string, string> = {}): Logger {
  return pino(
    {
      level,
      base: { service: "chatapi", ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Defence in depth: these header names never reach the output even if passed by mistake.
      redact: { paths: ["api_key", "apiKey", "headers['x-api-key']", "headers['x-master-key']", "token", "webhook_secret", "content"], censor: "[redacted]" },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/**
 * Waits until every line logged so far is written (at most `timeoutMs`), before the process exits.
 * The stdout destination writes asynchronously and its flush(cb) does not wait for a write in flight.
 */
export function finishLog(log: Logger, timeoutMs = 2000): Promise<void> {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { _writing?: boolean; once?: (ev: string, cb: () => void) => void; flushSync?: () => void }
    | undefined;
  if (!stream || typeof stream.once !== "function" || !stream._writing) {
    try {
      stream?.flushSync?.();
    } catch {
      // nothing buffered, or the stream is not a sonic-boom one (tests capture the output)
    }
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    stream.once!("drain", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
