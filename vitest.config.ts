import { defineConfig } from "vitest/config";

// Two projects: "quick" (pure and unit tests, and rule scenarios on the in-memory fleet: `npm run test:quick`, the
// inner loop) and "e2e" (every file that runs git or a process, named `*.e2e.test.ts`: real git, processes, daemons).
// `npm test` runs both. End-to-end files mostly wait on git and child processes, so more of them run at once than
// there are cores. Neither project isolates its files: a worker imports coord's modules once, not once a file (the
// whole suite took 382 s of CPU isolated, 344 s not); setup.ts still gives each file its own HOME, and a test that
// counts what this process did counts it for its own checkout (git.ts blobsRead). Files run in vitest's own order:
// longest first as its cache measured them, and on a clean clone (no cache) largest first.
const slow = ["test/**/*.e2e.test.ts"];

export default defineConfig({
  test: {
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 4,
    projects: [
      { extends: true, test: { name: "quick", include: ["test/**/*.test.ts"], exclude: slow, isolate: false } },
      { extends: true, test: { name: "e2e", include: slow, globalSetup: ["test/global-setup.ts"], isolate: false } },
    ],
  },
});
