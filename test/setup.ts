// Preloaded by bunfig.toml before every test file.
import { afterAll, setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);

// Once after the last file: the shared redis-server (cluster mode, and the few tests that start one in
// every mode) and anything a test left running. The module is the tests' own instance when they loaded it.
afterAll(async () => (await import("./support/cluster-mode")).stopLeftovers());
