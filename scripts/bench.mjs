// Benchmarks (npm run bench): the timing targets of issues 14 and 11, measured
// as whole processes (the built CLI, dist/coord.mjs, spawned) against a `git
// daemon` on loopback, side by side with the raw git a person would run for the
// same, in the same run; and what the host pays (row 12: pushes, commits, reads
// and bytes per machine and per fleet; row 13: a fleet within the hub's push
// budget). Prints a table of medians and ratios and writes it to bench/results.md.
//
//   npm run bench                     everything; writes bench/results.md
//   npm run bench:smoke               sizes ÷ 10, fewer repetitions; writes nothing (CI runs it after npm test, which builds)
//   node scripts/bench.mjs --only=noop,scale   some rows (names below); writes nothing
//   node scripts/bench.mjs --only=… --write    some rows, put into bench/results.md in place of the whole run's, each
//                                     marked as from this partial run (scripts/bench/results-file.mjs)
//   COORD_BENCH_LOGS=<dir>            the daemons and budget rows keep each daemon's output and coord.log there
//   COORD_BENCH_ONE_WAY_MS=<ms>       rows 17–18 (agents on call, open sessions): the far host's delay each way (default 100; 0: no proxy)
//   COORD_BENCH_AGENT=real|standin    rows 17: the real claude (default when the newest pinned is installed) or the stand-ins
//
// Goals never fail the run (the table says met or missed); it exits non-zero
// only when a row could not run at all, so the bench cannot rot unnoticed.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CLI, cleanupAll, dur, REPO, run, say, SMOKE } from "./bench/lib.mjs";

// The built CLI is what is measured: it must be there and not older than the sources.
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
if (!existsSync(CLI) || statSync(CLI).mtimeMs < newest(join(REPO, "src"))) {
  console.error(`bench: ${CLI} is ${existsSync(CLI) ? "older than src/" : "missing"}; run npm run build first (npm run bench and npm test do)`);
  process.exit(2);
}

const { noopSync, oneTaskSync, concurrentSyncs } = await import("./bench/rows-sync.mjs");
const { atScale, initLongHistory, historyGrowth } = await import("./bench/rows-scale.mjs");
const { watchLatency, drainRounds, drainDaemons, outageRecovery } = await import("./bench/rows-work.mjs");
const { pureCore, agentHook, mcpTools } = await import("./bench/micro.mjs");
const { hostLoad } = await import("./bench/host.mjs");
const { budgetIdle, budgetOrder, budgetDrain } = await import("./bench/budget.mjs");
const { budgetDay } = await import("./bench/budget-day.mjs");
const { keysCost } = await import("./bench/keys.mjs");
const { startupTricks, parseMemo } = await import("./bench/startup.mjs");
const { secondsMessage, secondsOrder, secondsReply, secondsIdle, secondsPath } = await import("./bench/seconds.mjs");
const { onCallAnswer, onCallStep, onCallApprove } = await import("./bench/on-call.mjs");
const { onCallEachCli } = await import("./bench/on-call-clis.mjs");
const { listenWake, listenCodex } = await import("./bench/listen.mjs");

const ROWS = [
  ["noop", "1", noopSync],
  ["task", "2", oneTaskSync],
  ["fleet", "3", concurrentSyncs],
  ["scale", "4", atScale],
  ["init", "5", initLongHistory],
  ["history", "6", historyGrowth],
  ["watch", "7", watchLatency],
  ["drain", "11a", drainRounds],
  ["daemons", "11b", drainDaemons],
  ["outage", "11c", outageRecovery],
  ["host", "12", hostLoad],
  ["budget-idle", "13a–b", budgetIdle],
  ["budget-order", "13c", budgetOrder],
  ["budget-drain", "13d", budgetDrain],
  ["budget-day", "13e", budgetDay],
  ["keys", "14", keysCost],
  ["startup", "15a–e", startupTricks],
  ["parsememo", "15f–g", parseMemo],
  ["seconds-message", "16a", secondsMessage],
  ["seconds-order", "16b", secondsOrder],
  ["seconds-reply", "16c", secondsReply],
  ["seconds-idle", "16d", secondsIdle],
  ["seconds-path", "16e", secondsPath],
  ["on-call-answer", "17a–b", onCallAnswer],
  ["on-call-step", "17c", onCallStep],
  ["on-call-approve", "17d–e", onCallApprove],
  ["on-call-clis", "17f–h", onCallEachCli],
  ["listen", "18a–b", listenWake],
  ["listen-codex", "18c–d", listenCodex],
];
const MICRO = [
  ["core", pureCore],
  ["hook", agentHook],
  ["mcp", mcpTools],
];

const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",")
  .filter(Boolean);
const unknown = only?.filter((n) => ![...ROWS, ...MICRO].some(([name]) => name === n));
if (unknown?.length) {
  console.error(`bench: no row named ${unknown.join(", ")}; the rows: ${[...ROWS, ...MICRO].map(([n]) => n).join(", ")}`);
  process.exit(2);
}
const wanted = ([name]) => !only || only.includes(name);
// --write with --only: the rows measured go into bench/results.md (the whole run's, kept otherwise).
const write = process.argv.includes("--write");
const RESULTS = join(REPO, "bench", "results.md");
if (write && (!only || SMOKE || only.some((n) => MICRO.some(([name]) => name === n)) || !existsSync(RESULTS))) {
  console.error(
    `bench: --write goes with --only=<rows> (not --smoke, not the small figures ${MICRO.map(([n]) => n).join(", ")}), into a bench/results.md a whole run wrote (npm run bench)`,
  );
  process.exit(2);
}

// The whole run stops by itself: every process has its own deadline, every loop a bound, and this. The smoke run
// takes about 10 minutes before rows 17, 6 more with them (their questions go at the asker's push budget, 17a–e after
// a share's wait for the budget) and 2 more with row 18 (skipped, with a line, where tmux or the pinned claude is
// missing).
const WHOLE_RUN_MIN = SMOKE ? 25 : 70;
const deadline = setTimeout(() => {
  console.error(`bench: still running after ${WHOLE_RUN_MIN} minutes; stopped`);
  cleanupAll();
  process.exit(1);
}, WHOLE_RUN_MIN * 60_000);
deadline.unref();

const began = performance.now();
// How busy the machine was: other processes move every figure.
const load = [loadavg()[0]];
setInterval(() => load.push(loadavg()[0]), 5_000).unref();
const rows = [];
const micro = [];
const failures = [];
for (const row of ROWS.filter(wanted)) {
  const [name, n, fn] = row;
  say(`row ${n} (${name})`);
  try {
    const r = await fn();
    rows.push(...(Array.isArray(r) ? r : [r]));
  } catch (e) {
    failures.push(`row ${n} (${name}): ${e?.message ?? e}`);
    rows.push({ n, what: `${name}: could not run`, coord: "—", base: "", ratio: "", goal: "", met: undefined, notes: String(e?.message ?? e).slice(0, 300) });
  }
}
for (const part of MICRO.filter(wanted)) {
  const [name, fn] = part;
  say(`in-process and small figures (${name})`);
  try {
    micro.push(...(await fn()));
  } catch (e) {
    failures.push(`${name}: ${e?.message ?? e}`);
    micro.push({ what: `${name}: could not run`, figure: String(e?.message ?? e).slice(0, 300) });
  }
}
cleanupAll();

const gitVersion = (await run("git", ["--version"])).out.trim().replace(/^git version /, "");
const head = (await run("git", ["-C", REPO, "rev-parse", "--short", "HEAD"])).out.trim();
const dirty = (await run("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"])).out.trim() ? " (with uncommitted changes)" : "";
const cell = (s) => String(s ?? "").replace(/\|/g, "\\|");
const verdict = (m) => (m === undefined ? "**not run**" : m ? "met" : "**missed**");
const rowLine = (r) => `| ${r.n} | ${cell(r.what)} | ${cell(r.coord)} | ${cell(r.base)} | ${cell(r.ratio)} | ${cell(r.goal)} | ${verdict(r.met)} |`;
const date = `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`;
const runText =
  `coord ${head}${dirty} · ${cpus().length} cores (${cpus()[0]?.model?.trim() ?? "?"}) · ` +
  `${platform()} ${release()} · Node ${process.version.slice(1)} · git ${gitVersion} · ${dur(performance.now() - began)} in all · ` +
  `load average during the run ${(load.reduce((a, b) => a + b, 0) / load.length).toFixed(1)} (at most ${Math.max(...load).toFixed(1)})`;
const text = [
  `# coord bench${SMOKE ? " (smoke: sizes ÷ 10)" : ""}`,
  "",
  `${date} · ${runText}`,
  "",
  "Whole processes (`node dist/coord.mjs …`, spawned) against a `git daemon` on 127.0.0.1; the raw-git baseline in the same run, on the same hub. Medians; the ratio is coord ÷ baseline.",
  "",
  "| # | measurement | coord | raw git | ratio | goal | |",
  "|---|---|---|---|---|---|---|",
  ...rows.map(rowLine),
  "",
  ...rows.map((r) => `- ${r.n}: ${r.notes}`),
  ...(micro.length
    ? [
        "",
        "Small figures (the pure core in the bench's own process; the agent hook as processes; coord mcp's tool calls through the SDK's client):",
        "",
        "| what | figure |",
        "|---|---|",
      ]
    : []),
  ...micro.map((m) => `| ${cell(m.what)} | ${cell(m.figure)} |`),
  "",
].join("\n");
console.log(text);

if (!SMOKE && !only && failures.length === 0) {
  mkdirSync(join(REPO, "bench"), { recursive: true });
  writeFileSync(RESULTS, text);
  say("written to bench/results.md");
} else if (write && failures.length === 0) {
  const { withPartialRun } = await import("./bench/results-file.mjs");
  const measured = rows.map((r) => ({ n: r.n, line: rowLine(r), note: r.notes }));
  writeFileSync(RESULTS, withPartialRun(readFileSync(RESULTS, "utf8"), measured, { date, text: runText, only: only.join(",") }));
  say(`rows ${rows.map((r) => r.n).join(", ")} written into bench/results.md (marked as a partial run)`);
} else if (!SMOKE) say(failures.length ? "bench/results.md not written: a row could not run" : "bench/results.md not written: only some rows ran (--write puts them in)");
if (failures.length) {
  for (const f of failures) console.error(`bench: ${f}`);
  process.exitCode = 1;
}
