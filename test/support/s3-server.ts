// A real S3-compatible server for tests (s3rver, a dev dependency), run as its own process by
// test/support/s3.ts: `bun test/support/s3-server.ts <dir> <bucket>` prints {"port":N} when listening.
import S3rver from "s3rver";

const [dir, bucket] = process.argv.slice(2);
const server = new S3rver({ port: 0, address: "127.0.0.1", directory: dir!, silent: true, configureBuckets: [{ name: bucket!, configs: [] }] });
const info = (await server.run()) as { port: number };
console.log(JSON.stringify({ port: info.port }));
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
