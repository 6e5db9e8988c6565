// Preloaded by bunfig.toml before every test file.
import { afterAll, setDefaultTimeout } from "bun:test";
import { inCluster } from "./support/test-store";

setDefaultTimeout(30_000);

// Cluster mode: once after the last file, the shared redis-server and anything a test left running.
if (inCluster) {
  const { stopLeftovers } = await import("./support/cluster-mode");
  afterAll(stopLeftovers);
}
