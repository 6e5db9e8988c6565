import { expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { signWebhook, webhookHeaders } from "./signing";

test("signature is HMAC-SHA256 over timestamp.body, hex, prefixed sha256=", () => {
  const body = '{"event":"message.new"}';
  const want = createHmac("sha256", "s3cret").update(`1700000000.${body}`).digest("hex");
  expect(signWebhook("s3cret", 1700000000, body)).toBe(`sha256=${want}`);
});

test("headers: event id, unix-seconds timestamp, signature only with a secret", () => {
  const h = webhookHeaders("ev1", "{}", null, 1_700_000_000_999);
  expect(h["X-ChatAPI-Event-Id"]).toBe("ev1");
  expect(h["X-ChatAPI-Timestamp"]).toBe("1700000000");
  expect(h["Content-Type"]).toBe("application/json");
  expect(h["X-ChatAPI-Signature"]).toBeUndefined();
  expect(webhookHeaders("ev1", "{}", "k", 1_700_000_000_000)["X-ChatAPI-Signature"]).toBe(signWebhook("k", 1700000000, "{}"));
});
