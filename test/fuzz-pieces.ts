// The pieces of the fuzz tests (fuzz.test.ts: ORDERS.json and machine files; fuzz-trees.test.ts: message files,
// whole tree listings, local state): generators of what a repository and a machine's local state can hold, the
// mutations a bad editor, a bad merge or an attacker makes, and everything a sync and `coord status` do with a tree.
// Never an uncaught exception, never a hang, every problem a sentence.
//
// Seeded and bounded (a few thousand cases, a few seconds). Deeper:
//   COORD_FUZZ_RUNS=100000 npx vitest run test/fuzz.test.ts test/fuzz-trees.test.ts
// and COORD_FUZZ_SEED=<n> to try other cases (a failure prints its seed and path).
import fc from "fast-check";
import { expect } from "vitest";
import { type ComputerFile, renderComputer, type TaskReport } from "../src/core/fleet/computer.js";
import { messagePath, trustedReceipts, type MessageFile } from "../src/core/messages/messages.js";
import { computerPath } from "../src/core/files/names.js";
import { plan } from "../src/core/machine/plan.js";
import { ownComputer, renderChanges } from "../src/core/machine/publish.js";
import { ORDERS_FILE, readModel } from "../src/core/repo/repo.js";
import { deriveStatus, renderStatusJson } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { statusText } from "../src/core/status/terminal.js";
import type { Problem } from "../src/core/types.js";
import { computerFile, T0_ISO, fuzzRuns } from "./fixtures.js";

const RUNS = fuzzRuns(500);
const SEED = Number(process.env.COORD_FUZZ_SEED) || 20_250_601;
/** One case longer than this is a hang (the deepest and largest inputs here take milliseconds). */
const CASE_MS = 2_000;
export const params = (runs = RUNS) => ({ seed: SEED, numRuns: runs, endOnFailure: true });

// ------------------------------------------------------------ the pieces

/** Names people, machines and attackers use: valid ones, JavaScript's own, paths, control characters. */
const NAMES = [
  "alpha",
  "beta",
  "gamma-2",
  "constructor",
  "tostring",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "prototype",
  "ALL",
  "ANY",
  "all",
  "..",
  "../x",
  "a/b",
  "a\tb",
  "a\nb",
  "é",
  "",
  "x".repeat(70),
];
export const name = fc.constantFrom(...NAMES);
export const machine = fc.constantFrom("alpha", "beta", "gamma-2", "constructor", "tostring", "hasownproperty");

/** Values of the wrong kind, or the right kind at the edges. */
export const odd = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53, 1e308, -1e308, "", " ", "\u0000", "8d", "7d", "1e999s", "2099-01-01T00:00:00Z", "not a date", [], {}, [[]], {
    __proto__: 1,
  }),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
);
const sometimes = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });

const orderArb = fc.record(
  {
    id: fc.oneof(name, odd),
    to: fc.oneof(machine, fc.constantFrom("ALL", "ANY"), fc.array(machine, { maxLength: 3 }), name, odd),
    run: fc.oneof(fc.constant("true"), odd),
    agent: sometimes(fc.oneof(name, odd)),
    prompt: sometimes(fc.string()),
    rev: sometimes(fc.oneof(fc.integer({ min: 1, max: 5 }), odd)),
    after: sometimes(fc.oneof(fc.array(name, { maxLength: 3 }), odd)),
    requires: sometimes(fc.oneof(fc.array(name, { maxLength: 3 }), odd)),
    env: sometimes(fc.oneof(fc.dictionary(name, fc.oneof(fc.string(), fc.record({ value: fc.string(), secret: fc.boolean() }), odd), { maxKeys: 3 }), odd)),
    timeout: sometimes(fc.oneof(fc.constantFrom("90s", "15m", "7d", "8d", "25d", 604_800, 604_801, 1e30), odd)),
    retries: sometimes(fc.oneof(fc.integer({ min: 0, max: 100 }), odd)),
    priority: sometimes(fc.oneof(fc.constantFrom("low", "normal", "high", "urgent"), odd)),
    cancelled: sometimes(fc.oneof(fc.boolean(), odd)),
    notBefore: sometimes(fc.oneof(fc.constantFrom("2025-06-01T10:00:00Z", "2099-01-01T00:00:00Z"), odd)),
  },
  { requiredKeys: ["id", "to"] },
);

export const ordersDoc = fc.record({ version: fc.oneof(fc.constant(1), odd), orders: fc.oneof(fc.array(orderArb, { maxLength: 6 }), odd) }, { requiredKeys: ["orders"] });

const reportArb: fc.Arbitrary<TaskReport> = fc.record({
  rev: fc.integer({ min: 1, max: 4 }),
  state: fc.constantFrom("queued", "assigned", "in_progress", "completed", "failed", "blocked", "cancelled", "rejected"),
  attempts: fc.integer({ min: 0, max: 200 }),
  exitCode: fc.option(fc.integer({ min: -1, max: 255 }), { nil: undefined }),
  startedAt: fc.option(fc.constantFrom(T0_ISO, "2099-01-01T00:00:00.000Z", "+275760-09-13T00:00:00.000Z", "soon"), { nil: undefined }),
  finishedAt: fc.option(fc.constantFrom(T0_ISO, "2099-01-01T00:00:00.000Z", "+275760-09-13T00:00:00.000Z"), { nil: undefined }),
  reason: fc.option(fc.string(), { nil: undefined }),
  output: fc.option(fc.string(), { nil: undefined }),
  lease: fc.option(fc.constantFrom(1, 600, 1e12), { nil: undefined }),
  takeoverFrom: fc.option(machine, { nil: undefined }),
});

export const ORDER_IDS = ["a", "b", "c", "constructor", "toString", "valueOf"];
export const computerArb = (who: string): fc.Arbitrary<ComputerFile> =>
  fc
    .record({
      tasks: fc.dictionary(fc.constantFrom(...ORDER_IDS), reportArb, { maxKeys: 4 }),
      capabilities: fc.dictionary(fc.constantFrom("os", "node", "constructor", "gpu", "claude"), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
      lastSeen: fc.constantFrom(T0_ISO, "2025-06-01T09:00:00.000Z", "2099-01-01T00:00:00.000Z"),
      heartbeat: fc.constantFrom(60, 900, 1e300, 0.001),
      messages: fc.option(
        fc.dictionary(
          fc.constantFrom("alpha/beta", "beta/alpha", "alpha/ALL", "beta/ALL", "constructor/alpha", "alpha/constructor"),
          fc.record({ received: fc.integer({ min: 0, max: 2 ** 31 - 1 }), acked: fc.integer({ min: 0, max: 10 }) }),
          { maxKeys: 3 },
        ),
        { nil: undefined },
      ),
    })
    .map((over) => computerFile(who, over));

export const messageFileArb = (from: string, to: string): fc.Arbitrary<MessageFile> =>
  fc.array(fc.record({ text: fc.string({ maxLength: 30 }), urgent: fc.boolean() }), { maxLength: 4 }).chain((texts) =>
    fc.integer({ min: texts.length + 1, max: texts.length + 5 }).map((next) => ({
      coord: 1 as const,
      from,
      to,
      next,
      messages: texts.map((t, i) => ({ seq: next - texts.length + i, at: T0_ISO, priority: t.urgent ? ("urgent" as const) : ("normal" as const), text: t.text })),
    })),
  );

/** Text mutations: what a bad editor, a bad merge or an attacker does to a file. */
export const deepJson = (n: number) => "[".repeat(n) + "]".repeat(n);
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.constantFrom(
      "\u0000",
      "\t",
      "\n",
      "\r\n",
      "---\n",
      "[",
      "{",
      "]",
      "}",
      ",",
      ":",
      '"',
      "'",
      "&a ",
      "*a",
      "!!js/function ",
      "<<<<<<< HEAD\n",
      "\uFEFF",
      "\u2028",
      deepJson(5000),
      "- ".repeat(3000),
      " ".repeat(500) + "x:\n",
    ),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("number" as const), to: fc.constantFrom("9007199254740993", "1e308", "-1", "0", "2147483648", "NaN", ".inf") }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  // A value replaced by lists nested deep: valid JSON, valid YAML, 5000 levels.
  fc.record({ kind: fc.constant("nest" as const), depth: fc.constantFrom(60, 65, 800, 5000) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

export function mutate(text: string, edits: Mutation[]): string {
  for (const e of edits) {
    if (e.kind === "insert") {
      const at = e.at % (text.length + 1);
      text = text.slice(0, at) + e.text + text.slice(at);
    } else if (e.kind === "delete") {
      const at = e.at % (text.length + 1);
      text = text.slice(0, at) + text.slice(at + e.length);
    } else if (e.kind === "number") text = text.replace(/\b\d+\b/, e.to);
    else if (e.kind === "nest") text = text.replace(/: ("[^"\n]*"|-?\d[\d.e+-]*|true|false|null)/, `: ${deepJson(e.depth)}`);
    else text = text.slice(0, e.at % (text.length + 1));
  }
  return text;
}
export const edits = fc.array(mutation, { maxLength: 3 });

/** Paths of a tree: coord's own, and ones that try to pass for them. */
export const pathArb = fc.oneof(
  machine.map(computerPath),
  fc.tuple(machine, fc.oneof(machine, fc.constant("ALL"))).map(([a, b]) => messagePath(a, b)),
  name.map((n) => `coordination/COMPUTER_${n}.md`),
  fc.tuple(name, name).map(([a, b]) => `coordination/messages/${a}_TO_${b}.md`),
  name.map((n) => `coordination/orders/${n}.json`),
  fc.constantFrom(
    "coordination/COMPUTER_alpha.md\tx",
    "coordination/COMPUTER_alpha.md\nx",
    "coordination/COMPUTER_../../x.md",
    "coordination/notes.md",
    "coordination/orders.schema.json",
    "STATUS.json",
    "STATUS.md",
    "README.md",
    "ORDERS.json\t",
  ),
);

// ------------------------------------------------------------ the property

/** Quoted text (what the file said), coord's own words that are not a sentence, and characters a file name cannot show. */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const NOT_WORDS = /\[object Object\]|\bundefined\b|\bNaN\b|\n\s+at /;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A problem is one sentence a person can act on: text, one line, the file printable. Checked plainly, and through
 * expect (which says what failed) only when a check fails: an expect per check cost a sixth of these cases' time.
 */
function expectSentence(p: Problem): void {
  if (
    typeof p.message === "string" &&
    p.message.length > 10 &&
    !NOT_WORDS.test(p.message.replace(QUOTED, '""')) &&
    typeof p.file === "string" &&
    !CONTROL.test(p.file) &&
    (p.line === undefined || (Number.isSafeInteger(p.line) && p.line >= 1))
  )
    return;
  expect(typeof p.message).toBe("string");
  expect(p.message.length).toBeGreaterThan(10);
  // What the file said is quoted; coord's own words have no "undefined", "NaN" or object dumps.
  expect(p.message.replace(QUOTED, '""')).not.toMatch(NOT_WORDS);
  expect(p.file).not.toMatch(CONTROL);
  if (p.line !== undefined) expect(Number.isSafeInteger(p.line) && p.line >= 1).toBe(true);
  expect.unreachable(`a check above fails for ${JSON.stringify(p)}`);
}

export const NOW = new Date(Date.parse(T0_ISO) + 60_000);

/** Everything a sync and `coord status` do with a tree, for every machine in it: no throw, no hang. */
export function throughEverything(files: Map<string, string>): void {
  const publisher = ["alpha", "beta", "constructor"][files.size % 3]!;
  const started = Date.now();
  const model = readModel(files);
  for (const p of [...model.ordersProblems, ...model.fileProblems]) expectSentence(p);
  const status = deriveStatus(model);
  const json = JSON.parse(renderStatusJson(status));
  if (!json) expect(json).toBeTruthy();
  renderStatusMd(status);
  statusText(status, NOW);
  for (const me of ["alpha", "beta", "constructor"]) {
    const mine = model.computers.get(me);
    const caps = { os: "linux", node: "20" };
    const p = plan({
      orders: model.orders?.orders ?? [],
      machine: me,
      machines: model.machineNames,
      journal: mine?.tasks ?? {},
      status,
      capabilities: caps,
      now: NOW,
      maxParallel: 2,
      retryBackoff: 30,
      lease: 600,
    });
    for (const w of p.waiting) if (typeof w.reason !== "string") expect(typeof w.reason).toBe("string");
    if (me !== publisher) continue; // publishing (rendering every file) for one machine per case keeps the cases fast
    const receipts = trustedReceipts(mine?.messages, me, model.messageFiles);
    const self = { name: me, uuid: `uuid-of-${me}`, heartbeat: 900, capabilities: caps, retryBackoff: 30, tasks: mine?.tasks ?? {} };
    const own = ownComputer(self, model, files.get(ORDERS_FILE), NOW, receipts);
    renderChanges(
      files,
      model,
      own,
      model.messageFiles.filter((f) => f.from === me),
    );
  }
  const took = Date.now() - started;
  if (took >= CASE_MS) expect(took).toBeLessThan(CASE_MS);
}

/** The two machines' files every case starts from, rendered once (each case gets a tree of its own). */
const ALPHA = renderComputer(computerFile("alpha"));
const BETA = renderComputer(computerFile("beta"));
export const base = (orders: string) =>
  new Map<string, string>([
    [ORDERS_FILE, orders],
    [computerPath("alpha"), ALPHA],
    [computerPath("beta"), BETA],
  ]);
