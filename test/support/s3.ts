// Starts a real S3-compatible server (s3rver) in a child process on 127.0.0.1 and a free port.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running S3 server and the environment that points ChatAPI at it. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** ATTACHMENTS_STORE and S3_* for startTestServer. */
  env(prefix?: string): Record<string, string>;
  stop(): Promise<void>;
}

/** s3rver accepts any key pair; these are the ones it documents. */
export const S3_KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export async function startS3(bucket = "chat"): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), "chatapi-s3-"));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "s3-server.ts"), dir, bucket], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 15_000;
  while (!text.includes("\n")) {
    const timeout = new Promise<{ done: true; value: undefined }>((r) => setTimeout(() => r({ done: true, value: undefined }), Math.max(1, deadline - Date.now())));
    const { done, value } = await Promise.race([reader.read(), timeout]);
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const m = /"port":(\d+)/.exec(text);
  if (!m) {
    proc.kill();
    throw new Error(`s3rver did not start: ${text}`);
  }
  const endpoint = `http://127.0.0.1:${m[1]}`;
  return {
    endpoint,
    bucket,
    env: (prefix = `p${Math.random().toString(36).slice(2, 8)}`) => ({
      ATTACHMENTS_STORE: `s3://${bucket}/${prefix}`,
      S3_ENDPOINT: endpoint,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: S3_KEYS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3_KEYS.secretAccessKey,
    }),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
