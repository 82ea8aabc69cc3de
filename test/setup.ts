// Every test runs as on a fresh machine: an empty HOME, so no git identity,
// no global git config, nothing of the developer's leaks in.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach } from "vitest";
import { serveTurnTools } from "../src/commands/turn-tools.js";
import { forgetCapabilities } from "../src/state/capabilities.js";
import { provideTurnTools } from "../src/sync/turn-tools.js";

process.env.HOME = mkdtempSync(join(tmpdir(), "coord-home-"));
process.env.GIT_CONFIG_NOSYSTEM = "1";
// As the CLI does at its start (cli/main.ts): an engine a test runs in its own process serves its turns' coord tools.
provideTurnTools(serveTurnTools);
// Short lock staleness and grace periods (src/timings.ts), inherited by every CLI a test starts.
process.env.COORD_TEST_TIMINGS = "fast";
for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "COORD_DIR"]) delete process.env[k];
// ... and as in a process of its own, as far as the capabilities memo goes (src/state/capabilities.ts). A worker runs
// many files in one process (vitest.config.ts: not isolated); on a loaded machine it lives past the memo's 10 minutes,
// and the in-process sync that finds them older is not quiet (its answers are asked again), nor is the one after a
// stamp that ended then: a test counting on a quiet sync failed when that moment fell in it (notify.e2e, 2026-11-26).
beforeEach(() => forgetCapabilities());
