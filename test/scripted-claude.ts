// A scripted Claude Code in place of the process of an on-call turn (EngineOptions.run, SyncOptions.onCallRun): the
// lines of \`claude -p --output-format stream-json\` as the engine reads them (their shapes are held to the real CLI's
// in claude-real.e2e), without a process. For the engine's rules in the quick project.
import type { RunResult } from "../src/runner/run.js";
import type { RunProcess } from "../src/sync/on-call-turn.js";

/** One call of the scripted CLI: its argv and prompt. */
export interface Call {
  argv: string[];
  prompt: string;
  resume?: string;
  env: Record<string, string>;
}

/**
 * A scripted `claude -p --output-format stream-json`: it names a session (a new one, or the one resumed), answers
 * "answer <n>" (its call's number), and costs $0.01. `hold` keeps it running until its abort signal (a /stop).
 */
export function scriptedClaude(opts: { hold?: (call: Call) => boolean; cost?: number; answer?: (call: Call) => string } = {}) {
  const calls: Call[] = [];
  let sessions = 0;
  const run: RunProcess = async (spec) => {
    const resume = (spec.argv ?? []).find((a) => a.startsWith("--resume="))?.slice("--resume=".length);
    const call: Call = { argv: spec.argv ?? [], prompt: spec.input ?? "", env: spec.env, ...(resume ? { resume } : {}) };
    calls.push(call);
    const session = resume ?? `session-${++sessions}`;
    const say = (o: object) => spec.onLine?.(JSON.stringify(o));
    spec.onStart?.(999_999);
    say({ type: "system", subtype: "init", session_id: session });
    const base: RunResult = { exitCode: 0, signal: null, timedOut: false, aborted: false, tail: "" };
    if (opts.hold?.(call)) {
      say({ type: "assistant", message: { content: [{ type: "tool_use", name: "Bash", input: { command: "sleep 600" } }] }, session_id: session });
      await new Promise((r) => spec.signal?.addEventListener("abort", r, { once: true }));
      return { ...base, exitCode: null, signal: "SIGTERM", aborted: true };
    }
    say({
      type: "result",
      subtype: "success",
      is_error: false,
      result: opts.answer?.(call) ?? `answer ${calls.length}`,
      session_id: session,
      num_turns: 1,
      total_cost_usd: opts.cost ?? 0.01,
    });
    return base;
  };
  return { run, calls };
}
