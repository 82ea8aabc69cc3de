/**
 * A reporter that speaks when a run goes quiet: when no test has ended for `COORD_TEST_SILENCE_MIN` minutes (default
 * 5), it writes to stderr which files are running, the test each is in and for how long, and the run's processes that
 * have lived longest (git, coord's commands, the agent CLIs), once for each such stretch of silence. A run that a CI's
 * clock stops then ends its log with what it waited on, not with the last file that happened to pass. It changes no
 * result and keeps nothing alive (its timer is unref'd).
 */
import { execFileSync } from "node:child_process";
import { relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";

const silenceMin = Number(process.env.COORD_TEST_SILENCE_MIN) > 0 ? Number(process.env.COORD_TEST_SILENCE_MIN) : 5;

type Running = { since: number; test?: { name: string; since: number } };

const ago = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")}`;

/** The descendants of `root` by `ps`, the longest-lived first, at most `max` lines: "<m:ss> <pid> <command>". */
export function descendants(psOutput: string, root: number, max = 15): string[] {
  const rows = psOutput
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), secs: Number(m[3]), args: m[4]! }));
  const children = new Map<number, typeof rows>();
  for (const r of rows) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  const found: typeof rows = [];
  const walk = (pid: number, depth: number) => {
    if (depth > 30) return;
    for (const c of children.get(pid) ?? []) {
      found.push(c);
      walk(c.pid, depth + 1);
    }
  };
  walk(root, 0);
  return found
    .sort((a, b) => b.secs - a.secs)
    .slice(0, max)
    .map((r) => `${ago(r.secs * 1000)} ${r.pid} ${r.args.slice(0, 160)}`);
}

export default class SilenceReport implements Reporter {
  private readonly running = new Map<string, Running>();
  private lastEnd = Date.now();
  private spoken = 0;
  private root = process.cwd();
  private timer?: NodeJS.Timeout;

  onInit(vitest: { config: { root: string } }): void {
    this.root = vitest.config.root;
    this.timer = setInterval(() => this.look(), Math.min(30_000, (silenceMin * 60_000) / 2));
    this.timer.unref();
  }

  onTestModuleStart(m: TestModule): void {
    this.running.set(m.moduleId, { since: Date.now() });
  }

  onTestCaseReady(t: TestCase): void {
    const r = this.running.get(t.module.moduleId);
    if (r) r.test = { name: t.fullName, since: Date.now() };
  }

  onTestCaseResult(): void {
    this.lastEnd = Date.now();
    this.spoken = 0;
  }

  onTestModuleEnd(m: TestModule): void {
    this.running.delete(m.moduleId);
    this.lastEnd = Date.now();
    this.spoken = 0;
  }

  onTestRunEnd(): void {
    clearInterval(this.timer);
  }

  private look(): void {
    const quiet = Date.now() - this.lastEnd;
    const stretches = Math.floor(quiet / (silenceMin * 60_000));
    if (stretches <= this.spoken || this.running.size === 0) return;
    this.spoken = stretches;
    const now = Date.now();
    const lines = [...this.running].map(([id, r]) => {
      const test = r.test ? `, in "${r.test.name}" for ${ago(now - r.test.since)}` : "";
      return `  ${relative(this.root, id)} for ${ago(now - r.since)}${test}`;
    });
    let procs: string[] = [];
    try {
      const ps = execFileSync("ps", ["-eo", "pid=,ppid=,etimes=,args="], { encoding: "utf8", timeout: 5000 });
      procs = descendants(ps, process.pid)
        .filter((l) => !l.includes(" ps -eo pid="))
        .map((l) => `  ${l}`);
    } catch {
      // no ps here (Windows): the files are said without their processes
    }
    process.stderr.write(
      [
        `vitest: no test has ended for ${ago(quiet)}; still running:`,
        ...lines,
        ...(procs.length ? ["  the run's longest-lived processes (m:ss pid command):", ...procs] : []),
        "",
      ].join("\n"),
    );
  }
}
