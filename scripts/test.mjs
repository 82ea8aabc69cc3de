// `npm test`: the build the end-to-end tests run (npm run build: esbuild, which checks no types) and the lint, then
// the tests (vitest run, with any arguments given to npm test) and, beside them at the lowest priority, the types of
// src and test in one tsc run (npm run typecheck). The tests use the cores in bursts, waiting on git, processes and
// clocks in between; tsc takes about 14 s of CPU from those gaps instead of holding the tests back for 9 s before
// they start (at the same priority it competed with vitest's start and the whole took longer). tsc's output is
// printed whole when both have ended; the exit code is the first failure's: build, lint, tests, types.
import { spawn } from "node:child_process";

/** A command line, run with npm's PATH (node_modules/.bin first); resolves to its exit code and, unless shown live, its output. */
function run(line, { live = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(line, { shell: true, stdio: ["ignore", live ? "inherit" : "pipe", live ? "inherit" : "pipe"] });
    const out = [];
    child.stdout?.on("data", (d) => out.push(d));
    child.stderr?.on("data", (d) => out.push(d));
    child.on("error", (e) => resolve({ line, code: 1, out: `${e.message}\n` }));
    child.on("close", (code) => resolve({ line, code: code ?? 1, out: Buffer.concat(out).toString() }));
  });
}

/** Prints a finished job's output, and says when it failed; its exit code. */
function report({ line, code, out }) {
  process.stdout.write(out);
  if (code !== 0) process.stderr.write(`npm test: \`${line}\` failed (exit ${code})\n`);
  return code;
}

const built = report(await run("npm run --silent build && npm run --silent lint"));
if (built !== 0) process.exit(built);
const args = process.argv.slice(2).map((a) => `'${a.replaceAll("'", "'\\''")}'`);
// nice(1): the whole of it, each process and thread, at the lowest priority from its start (Windows has no nice).
const types = run(`${process.platform === "win32" ? "" : "nice -n 19 "}npm run --silent typecheck`);
// The open sessions in a terminal (the "sessions" project: real Claude Code in tmux) in a vitest run of their own, after
// the rest: run last in the same run they failed every time in a clean clone (the session started, but without its
// project's MCP servers, or at the trust dialog its HOME had accepted), and passed every time in a run of their own.
// Beside the main run from its start (2026-12-03) the whole was a fifth faster here, but CI's run did not end within
// its 90 minutes (vitest.config.ts). With arguments (a file, -t): one run, as given.
const whole = args.length === 0;
const rest = ["quick", "e2e", "agents"].flatMap((p) => ["--project", p]);
const tests = report(await run(["vitest", "run", ...(whole ? rest : args)].join(" "), { live: true }));
const sessions = whole ? report(await run("vitest run --project sessions", { live: true })) : 0;
const typed = report(await types);
process.exit(tests || sessions || typed);
