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
