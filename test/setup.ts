// Preloaded by bunfig.toml before every test file.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);
