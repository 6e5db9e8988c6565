// Runs an attachment test body against both blob stores: the file store and S3 (s3rver).
import { afterAll, beforeAll, describe } from "bun:test";
import { startTestServer, type RestClient, type TestServer } from "../helpers";
import { startS3, type TestS3 } from "../support/s3";

export interface AttachmentCtx {
  /** The server (started in beforeAll). */
  s(): TestServer;
  kind: "file" | "s3";
  tenant(config?: Record<string, unknown>): Promise<{ tenant_id: string; api_key: string; as(u: string): RestClient; h(u: string): Record<string, string> }>;
}

/** Declares `body` once per blob store, each with its own server (`env` added to its environment). */
export function forEachBlobStore(name: string, body: (ctx: AttachmentCtx) => void, env: Record<string, string> = {}): void {
  for (const kind of ["file", "s3"] as const) {
    describe(`${name} [${kind}]`, () => {
      let server: TestServer;
      let s3: TestS3 | null = null;
      beforeAll(async () => {
        if (kind === "s3") s3 = await startS3();
        server = await startTestServer({ ...env, ...(s3 ? s3.env() : {}) });
      }, 30_000);
      afterAll(async () => {
        await server?.stop();
        await s3?.stop();
      });
      body({
        kind,
        s: () => server,
        async tenant(config) {
          // Tests send many messages quickly: the per-user send rate is not what they test.
          const t = await server.createTenant(`att-${kind}`, { user_message_rate: 100000, ...config });
          return { ...t, as: (u: string) => server.client(t.api_key, u), h: (u: string) => ({ "x-api-key": t.api_key, "x-user-id": u }) };
        },
      });
    });
  }
}
