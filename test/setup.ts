// Every test runs as on a fresh machine: an empty HOME, so no git identity,
// no global git config, nothing of the developer's leaks in.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.HOME = mkdtempSync(join(tmpdir(), "coord-home-"));
process.env.GIT_CONFIG_NOSYSTEM = "1";
// Short lock staleness and grace periods (src/timings.ts), inherited by every CLI a test starts.
process.env.COORD_TEST_TIMINGS = "fast";
for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "COORD_DIR"]) delete process.env[k];
