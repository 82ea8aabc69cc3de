// Path reservations (src/core/fleet/reservations.ts), table by table: which patterns
// are refused, which paths a pattern matches, which patterns overlap, who holds
// among conflicting reservations (hub order, shared, expiry at the reader's
// clock), and a bad entry in a machine's file being that entry's problem.
import fc from "fast-check";
import picomatch from "picomatch";
import { afterEach, describe, expect, it } from "vitest";
import { formatProblem } from "../src/core/orders/orders.js";
import {
  conflicts,
  type FleetReservation,
  heldAt,
  holdersOf,
  isLive,
  type LocalReservation,
  lostSentence,
  normalizePattern,
  ownState,
  pathMatches,
  patternProblem,
  patternsOverlap,
  readReservations,
  settle,
  standings,
} from "../src/core/fleet/reservations.js";
import { readQuiet } from "../src/state/quiet.js";
import { readReservationsState, updateReservations } from "../src/state/reservations.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";
import { fuzzRuns } from "./fixtures.js";
import type { ComputerFile } from "../src/core/fleet/computer.js";

const T0 = Date.parse("2026-11-22T12:00:00.000Z");
const at = (min: number) => new Date(T0 + min * 60_000);
const iso = (min: number) => at(min).toISOString();

const RUNS = fuzzRuns(300);

describe("patterns", () => {
  it.each([
    ["src/**", undefined],
    ["src/a.ts", undefined],
    ["src/{a,b}.ts", undefined],
    ["app/[id]/page.tsx", undefined],
    ["docs/*.md", undefined],
    ["a\\*b", undefined],
    ["", "it is empty"],
    ["/etc/passwd", "absolute"],
    ["~/x", "absolute"],
    ["C:/x", "absolute"],
    ["src/../etc", "a .. segment"],
    ["src/./a", "a . segment"],
    ["src//a", "an empty segment"],
    ["src/\u0007", "control character"],
    ["{src/**,\u202eDNE-}", "a character a person cannot see"],
    ["lib/\u200b*", "a character a person cannot see"],
    ["a\u2028b", "a character a person cannot see"],
    ["src/a\u2800b.ts", "a blank that is not a space but looks like one"],
    ["src/a\u00a0b.ts", "a blank that is not a space but looks like one"],
    ["src/a\u3000*", "a blank that is not a space but looks like one"],
    ["docs/caf\u00e9.md", undefined],
    ["a\\", "ends with a \\"],
    ["x".repeat(513), "longer than 512"],
    ["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}", "more than 64"],
    ["[z-a]", "runs backwards"],
  ])("%j: %s", (pattern, problem) => {
    const got = patternProblem(pattern);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  it.each([
    ["./src/", "src/**"],
    ["src/", "src/**"],
    ["  src/a.ts ", "src/a.ts"],
    ["./././a", "a"],
    ["src", "src"],
  ])("normalizes %j to %j", (given, want) => expect(normalizePattern(given)).toBe(want));

  it("reads many unclosed braces in linear-ish time", () => {
    const started = performance.now();
    expect(patternProblem("{".repeat(500))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it.each([
    ["src/**", "src/a.ts", true],
    ["src/**", "src/x/y/z.ts", true],
    ["src/**", "src", true],
    ["src/**", "srcs/a.ts", false],
    ["src/**", "lib/src/a.ts", false],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/x/a.ts", false],
    ["src/*.ts", "src/.hidden.ts", true],
    ["**/*.md", "README.md", true],
    ["**/*.md", "docs/deep/x.md", true],
    ["src/a.ts", "src/a.ts", true],
    ["src/a.ts", "src/a.tsx", false],
    ["src", "src/a.ts", false],
    ["src/?.ts", "src/a.ts", true],
    ["src/?.ts", "src/ab.ts", false],
    ["src/{a,b}.ts", "src/b.ts", true],
    ["src/{a,b}.ts", "src/c.ts", false],
    ["src/[a-c].ts", "src/b.ts", true],
    ["src/[!a-c].ts", "src/b.ts", false],
    ["src/[!a-c].ts", "src/d.ts", true],
    ["app/[id]/page.tsx", "app/[id]/page.tsx", true],
    ["app/[id]/page.tsx", "app/i/page.tsx", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["src/a(1).ts", "src/a(1).ts", true],
    ["a/**b", "a/xb", true],
    ["a/**b", "a/q/xb", false],
    // More stars alone in a segment are `**`: picomatch matches `a` with `a/**/***` (where `a/**/*` matches no `a`).
    ["a/**/***", "a", true],
    ["***", "a/b", true],
  ])("%j matches %j: %s", (pattern, path, want) => expect(pathMatches(path, pattern)).toBe(want));

  it.each([
    ["src/**", "src/a.ts", true],
    ["src/a.ts", "src/**", true],
    ["src/*.ts", "src/x/**", false],
    ["src/*.ts", "src/*/a.ts", false],
    ["src/**/*.ts", "src/x/**", true],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/a.js", false],
    ["src/*.ts", "src/*.js", false],
    ["src/a*", "src/*b", true],
    ["src/a*c", "src/*b", false],
    ["src/a.ts", "src/b.ts", false],
    ["src/**", "lib/**", false],
    ["**", "anything/at/all", true],
    ["**/*.md", "docs/x.md", true],
    ["**/*.md", "src/a.ts", false],
    ["**/test/**", "src/**", true],
    ["src/{a,b}.ts", "src/b.*", true],
    ["src/{a,b}.ts", "src/c.*", false],
    ["src/[ab].ts", "src/[cd].ts", false],
    ["src/[ab].ts", "src/[!a].ts", true],
    ["src/[ab].ts", "src/?.ts", true],
    ["src/[ab].ts", "src/c.ts", false],
    ["src", "src/a.ts", false],
    ["src", "src/**", true],
    ["a?c", "ab?", true],
    ["a?c", "ab", false],
    ["src/../x", "src/**", false],
  ])("%j and %j overlap: %s", (a, b, want) => {
    expect(patternsOverlap(a, b)).toBe(want);
    expect(patternsOverlap(b, a)).toBe(want);
  });

  // A small alphabet, so that random paths and patterns meet often.
  const segment = fc.stringMatching(/^[ab.]{1,3}$/).filter((s) => s !== "." && s !== "..");
  const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
  const globSegment = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^([ab.?*]|\[\^?[ab]\]){1,3}$/) },
    { weight: 1, arbitrary: fc.constant("**") },
    { weight: 1, arbitrary: fc.constant("{a,b*}") },
  );
  const pattern = fc
    .array(globSegment, { minLength: 1, maxLength: 4 })
    .map((s) => s.join("/"))
    .filter((p) => patternProblem(p) === undefined);
  const pico = (p: string) => picomatch(p, { dot: true, noextglob: true, nonegate: true });

  it("a path both patterns match means the patterns overlap (soundness of the conservative rule)", () => {
    fc.assert(
      fc.property(pattern, pattern, path, (a, b, p) => {
        if (pathMatches(p, a) && pathMatches(p, b)) expect(patternsOverlap(a, b)).toBe(true);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  // Never narrower than picomatch (a well-kept glob matcher), so the hook misses nothing a glob would match. It is
  // broader where picomatch has rules of its own (a trailing /** matching no directory after a plain name only, *.*
  // wanting a character after the dot, [!b] read as "! or b": the negated sets here are written [^b]); the tables
  // above say where it is narrower.
  it("matches every path picomatch matches (a [set] also matching its own text)", () => {
    fc.assert(
      fc.property(pattern, path, (a, p) => {
        if (pico(a)(p)) expect(pathMatches(p, a)).toBe(true);
      }),
      { numRuns: RUNS * 10 },
    );
  });
});

const res = (machine: string, id: number, paths: string[], over: Partial<FleetReservation> = {}): FleetReservation => ({
  machine,
  id,
  paths,
  at: iso(0),
  until: iso(120),
  ...over,
});

describe("who holds", () => {
  it.each([
    ["other machines, overlapping, exclusive", res("a", 1, ["src/**"]), res("b", 1, ["src/a.ts"]), true],
    ["the same machine", res("a", 1, ["src/**"]), res("a", 2, ["src/a.ts"]), false],
    ["both shared", res("a", 1, ["src/**"], { shared: true }), res("b", 1, ["src/a.ts"], { shared: true }), false],
    ["one shared, one exclusive", res("a", 1, ["src/**"], { shared: true }), res("b", 1, ["src/a.ts"]), true],
    ["paths apart", res("a", 1, ["src/**"]), res("b", 1, ["lib/**"]), false],
    ["one ended before the other began", res("a", 1, ["src/**"], { until: iso(10) }), res("b", 1, ["src/a.ts"], { at: iso(10) }), false],
    ["lifetimes overlapping", res("a", 1, ["src/**"], { until: iso(11) }), res("b", 1, ["src/a.ts"], { at: iso(10) }), true],
    ["any pattern of each", res("a", 1, ["lib/**", "docs/x.md"]), res("b", 1, ["src/**", "docs/*.md"]), true],
  ])("%s: conflict %s", (_what, a, b, want) => {
    expect(conflicts(a, b)).toBe(want);
    expect(conflicts(b, a)).toBe(want);
  });

  it("the one published first holds; the later one loses to it", () => {
    const a = res("alpha", 1, ["src/**"], { at: iso(0), reason: "refactor" });
    const b = res("beta", 1, ["src/a.ts"], { at: iso(1) });
    const s = standings([b, a], at(5));
    expect(s.get("alpha/1")).toEqual({ held: true });
    expect(s.get("beta/1")).toEqual({ held: false, lostTo: a });
    expect(heldAt([b, a], at(5))).toEqual([a]);
  });

  it("a pending reservation comes after everything published, whatever its time", () => {
    const a = res("alpha", 1, ["src/**"], { at: iso(5) });
    const pending = res("beta", 7, ["src/a.ts"], { at: iso(0) }); // made before, not published yet
    expect(standings([a], at(6), [pending]).get("beta/7")).toEqual({ held: false, lostTo: a });
  });

  it("a published reservation whose at lies in the reader's future (a clock ahead) started already: a pending one still loses to it", () => {
    const ahead = res("alpha", 1, ["src/**"], { at: iso(24 * 60), until: iso(24 * 60 + 120) });
    const pending = res("beta", 1, ["src/a.ts"], { at: iso(0), until: iso(60) });
    expect(standings([ahead], at(0), [pending]).get("beta/1")).toEqual({ held: false, lostTo: ahead });
  });

  it("a tie in time goes to the machine first by name, then the lower id", () => {
    const a = res("zulu", 1, ["src/**"]);
    const b = res("alpha", 2, ["src/**"]);
    const c = res("alpha", 1, ["docs/**"]);
    const s = standings([a, b, c], at(1));
    expect(s.get("alpha/2")?.held).toBe(true);
    expect(s.get("zulu/1")).toEqual({ held: false, lostTo: b });
  });

  it("a reservation that lost blocks nobody: the third one holds", () => {
    const a = res("a", 1, ["src/x/**"], { at: iso(0) });
    const b = res("b", 1, ["src/**"], { at: iso(1) }); // loses to a
    const c = res("c", 1, ["src/y.ts"], { at: iso(2) }); // overlaps only b
    const s = standings([a, b, c], at(3));
    expect([s.get("a/1")?.held, s.get("b/1")?.held, s.get("c/1")?.held]).toEqual([true, false, true]);
  });

  it.each([
    ["before until", 119, true],
    ["at until", 120, false],
    ["after until", 121, false],
  ])("expiry at the reader's clock: %s", (_what, min, live) => {
    const a = res("a", 1, ["src/**"]);
    expect(isLive(a, at(min))).toBe(live);
    expect(heldAt([a], at(min)).length).toBe(live ? 1 : 0);
  });

  it("one published after another expired holds; a reader whose clock has not reached that expiry sees the first hold until then", () => {
    const a = res("a", 1, ["src/**"], { until: iso(30) });
    const b = res("b", 1, ["src/a.ts"], { at: iso(31) }); // published once a had expired (by b's clock)
    expect(standings([a, b], at(45)).get("b/1")?.held).toBe(true); // lifetimes apart: no conflict
    expect(standings([a, b], at(20)).get("b/1")).toEqual({ held: false, lostTo: a }); // b's machine's clock runs ahead of this reader's
    expect(standings([a, b], at(31)).get("b/1")?.held).toBe(true);
  });

  it.each([
    ["src/a.ts", ["alpha/1", "gamma/3"]],
    ["src/x/y.ts", ["alpha/1"]],
    ["lib/z.ts", []],
    ["docs/a.md", []], // beta's own
  ])("holders of %s, excluding this machine, exclusive first", (path, want) => {
    const held = [res("gamma", 3, ["src/*.ts"], { shared: true }), res("alpha", 1, ["src/**"]), res("beta", 1, ["docs/**"])];
    expect(holdersOf(path, held, "beta").map((r) => `${r.machine}/${r.id}`)).toEqual(want);
  });
});

describe("reading machines' files", () => {
  const file = (reservations: unknown, lastSeen = iso(0)): ComputerFile => ({ reservations, lastSeen }) as unknown as ComputerFile;
  const good = { id: 1, paths: ["src/**"], at: iso(0), until: iso(60), reason: "x" };

  it("keeps the good entries and reports each bad one with where it is", () => {
    const computers = new Map([
      [
        "alpha",
        file([
          good,
          { id: 2, paths: ["../etc"], at: iso(0), until: iso(60) },
          { id: 3, paths: ["a"], at: "yesterday", until: iso(60) },
          { id: 4, paths: ["a"], at: iso(60), until: iso(0) },
          { id: 5, paths: ["a"], at: iso(0), until: iso(60 * 24 * 8) },
          "nonsense",
          { ...good },
          { id: 6, paths: [], at: iso(0), until: iso(60) },
          { id: 7, paths: ["a"], at: iso(0), until: iso(60), shared: "yes" },
        ]),
      ],
      ["beta", file({ not: "a list" })],
      ["gamma", file(undefined)],
    ]);
    const { reservations, problems } = readReservations(computers);
    expect(reservations).toEqual([{ machine: "alpha", ...good }]);
    expect(problems.map((p) => `${p.file} ${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(/COMPUTER_alpha\.md reservations\[1\]: ignored: reservation 2: the pattern "\.\.\/etc" is refused: it has a \.\. segment/),
      expect.stringMatching(/reservations\[2\]: ignored: reservation 3: at is not an ISO time/),
      expect.stringMatching(/reservations\[3\]: ignored: reservation 4: until is not after at/),
      expect.stringMatching(/reservations\[4\]: ignored: reservation 5: it is made for more than 7 days/),
      expect.stringMatching(/reservations\[5\]: ignored: it is not an object/),
      expect.stringMatching(/reservations\[6\]: ignored: reservation 1 is listed twice/),
      expect.stringMatching(/reservations\[7\]: ignored: reservation 6: it reserves no path/),
      expect.stringMatching(/reservations\[8\]: ignored: reservation 7: shared is not true/),
      expect.stringMatching(/COMPUTER_beta\.md reservations: ignored: reservations is not a list/),
    ]);
  });

  it("a reservation renewed for 7 days, days after it was first published, still counts (the week runs from its file's lastSeen)", () => {
    const renewed = { id: 1, paths: ["a"], at: iso(0), until: iso(60 * 24 * 10) };
    expect(readReservations(new Map([["alpha", file([renewed], iso(60 * 24 * 3))]])).reservations).toHaveLength(1);
    expect(readReservations(new Map([["alpha", file([renewed], iso(60 * 24 * 2))]])).problems).toHaveLength(1);
  });

  it.each([
    ["terminal escapes and a line break", "fix\u001b]0;pwned\u0007\u001b[2J\r\nnow", "fix\\u001b]0;pwned\\u0007\\u001b[2J now"],
    ["a bidi override that reorders what follows", "fix \u202eevil\u202c done", "fix \\u202eevil\\u202c done"],
    ["a zero-width space and a line separator", "a\u200bb\u2028c", "a\\u200bb c"],
  ])("another machine's reason reaches no terminal with what a person cannot see in it: %s, escaped", (_, reason, shown) => {
    const { reservations, problems } = readReservations(new Map([["alpha", file([{ ...good, reason }])]]));
    expect(problems).toEqual([]);
    expect(reservations[0]!.reason).toBe(shown);
  });

  it("another machine's reservation of a path with a bidi control in it is refused, and named escaped", () => {
    const { reservations, problems } = readReservations(new Map([["alpha", file([{ ...good, paths: ["{src/**,\u202eDNE-}"] }])]]));
    expect(reservations).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(formatProblem(problems[0]!)).toContain("a character a person cannot see");
    expect(formatProblem(problems[0]!)).not.toContain("\u202e");
  });

  it("reads at most 100 of one machine's", () => {
    const many = Array.from({ length: 105 }, (_, i) => ({ ...good, id: i + 1 }));
    const { reservations, problems } = readReservations(new Map([["alpha", file(many)]]));
    expect(reservations).toHaveLength(100);
    expect(problems).toHaveLength(1);
  });
});

describe("this machine's own, judged on a tip (settle)", () => {
  const local = (id: number, paths: string[], over: Partial<LocalReservation> = {}): LocalReservation => ({ id, paths, made: iso(0), until: iso(120), ...over });

  it("a pending one that overlaps a live one on the tip lost to it; one that does not goes out with at = now", () => {
    const theirs = res("alpha", 1, ["src/**"], { reason: "refactor" });
    const s = settle([local(1, ["src/a.ts"]), local(2, ["docs/**"])], "beta", [theirs], at(5));
    expect(s.lost.map((r) => r.id)).toEqual([1]);
    expect(s.local[0]!.lost).toEqual({ machine: "alpha", id: 1, paths: ["src/**"], reason: "refactor", until: iso(120), learned: iso(5) });
    expect(s.publish).toEqual([{ id: 2, paths: ["docs/**"], at: iso(5), until: iso(120) }]);
    expect(s.publishing).toEqual([2]);
    expect(lostSentence("beta", s.lost[0]!, (x) => x)).toBe(
      `reservation beta/1 (src/a.ts) lost: alpha holds src/** until ${iso(120)} (refactor), reserved before this one reached the hub; leave those paths alone, or reserve again once it is released or expired`,
    );
  });

  it("lost once: a later look neither tells it again nor publishes it, even once the holder is gone", () => {
    const first = settle([local(1, ["src/a.ts"])], "beta", [res("alpha", 1, ["src/**"])], at(5));
    const again = settle(first.local, "beta", [], at(6));
    expect(again.lost).toEqual([]);
    expect(again.publish).toEqual([]);
    expect(ownState(again.local[0]!, at(6))).toBe("lost");
  });

  it("a held one keeps its at and renewed until; it is judged by the hub's order, not as pending", () => {
    const mine = local(1, ["src/**"], { at: iso(1), until: iso(200) });
    const later = res("alpha", 1, ["src/a.ts"], { at: iso(3) }); // published after it, by a machine that did not check
    const s = settle([mine], "beta", [later, res("beta", 1, ["src/**"], { at: iso(1) })], at(10));
    expect(s.publish).toEqual([{ id: 1, paths: ["src/**"], at: iso(1), until: iso(200) }]);
    expect(s.publishing).toEqual([]);
  });

  it("renewed after the copy on the hub ran out: judged again as new, so a reservation another machine made meanwhile holds", () => {
    // alpha's src/** ran out at 120 on the hub; beta reserved src/a.ts at 122; alpha's renewal (until 240) reaches the hub at 125.
    const mine = local(1, ["src/**"], { at: iso(0), until: iso(240) });
    const tip = [res("alpha", 1, ["src/**"], { at: iso(0), until: iso(120) }), res("beta", 1, ["src/a.ts"], { at: iso(122), until: iso(300) })];
    const s = settle([mine], "alpha", tip, at(125));
    expect(s.lost.map((r) => r.id)).toEqual([1]);
    expect(s.local[0]!.lost).toMatchObject({ machine: "beta", id: 1 });
    expect(s.publish).toEqual([]);
    // Without beta's: it goes out again as new, with at = now.
    const alone = settle([mine], "alpha", [tip[0]!], at(125));
    expect(alone.publish).toEqual([{ id: 1, paths: ["src/**"], at: iso(125), until: iso(240) }]);
    expect(alone.publishing).toEqual([1]);
    expect(alone.local[0]!.at).toBeUndefined();
  });

  it("a pending one the tip already carries (a sync stopped before it wrote so) takes its at from the tip: held, not judged again", () => {
    const s = settle([local(4, ["src/**"])], "beta", [res("beta", 4, ["src/**"], { at: iso(2) }), res("alpha", 9, ["src/a.ts"], { at: iso(3) })], at(10));
    expect(s.local[0]!.at).toBe(iso(2));
    expect(s.publish).toEqual([{ id: 4, paths: ["src/**"], at: iso(2), until: iso(120) }]);
    expect(s.lost).toEqual([]);
  });

  it.each([
    ["an expired one is not published", [local(1, ["a"], { at: iso(0), until: iso(10) })], 20, 0, 1],
    ["an ended one is kept a day past its until, then dropped", [local(1, ["a"], { at: iso(0), until: iso(10) })], 10 + 24 * 60 + 1, 0, 0],
    ["a lost one too", [local(1, ["a"], { until: iso(10), lost: { machine: "x", id: 1, paths: ["a"], until: iso(10), learned: iso(1) } })], 10 + 24 * 60 + 1, 0, 0],
  ])("%s", (_what, given, min, published, kept) => {
    const s = settle(given, "beta", [], at(min));
    expect(s.publish).toHaveLength(published);
    expect(s.local).toHaveLength(kept);
  });
});

describe("a sync and its reservations (in-memory hub)", () => {
  let fleet: MemoryFleet | undefined;
  afterEach(async () => {
    await fleet?.cleanup();
    fleet = undefined;
  });
  const when = (min: number) => () => at(min);
  const publishedBy = async (f: MemoryFleet, name: string) => readReservations((await f.model()).computers).reservations.filter((r) => r.machine === name);

  it("a reservation made after a quiet sync is published by the next one; a quiet machine wakes when it expires and drops it", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    for (let i = 0; i < 3; i++) await f.sync("a", { now: when(0) });
    expect((await f.sync("a", { now: when(1) })).quiet).toBe(true);
    await updateReservations(f.m("a").stateDir, (d) => {
      d.reservations.push({ id: d.next++, paths: ["src/**"], made: iso(1), until: iso(8) });
    });
    const r = await f.sync("a", { now: when(2) });
    expect(r.quiet).toBeUndefined();
    expect(await publishedBy(f, "a")).toEqual([{ machine: "a", id: 1, paths: ["src/**"], at: iso(2), until: iso(8) }]);
    expect((await readReservationsState(f.m("a").stateDir)).reservations[0]!.at).toBe(iso(2));
    for (let i = 0; i < 3; i++) await f.sync("a", { now: when(3) });
    const stamp = await readQuiet(f.m("a").stateDir);
    expect(stamp?.until).toBe(Date.parse(iso(8))); // before its heartbeat is due
    expect((await f.sync("a", { now: when(7) })).quiet).toBe(true);
    expect((await f.sync("a", { now: when(9) })).pushed).toBeDefined();
    expect(await publishedBy(f, "a")).toEqual([]);
  });

  it("b's pending reservation, judged on the tip after a's landed first: lost, told in the result once, never published", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    await updateReservations(f.m("b").stateDir, (d) => {
      d.reservations.push({ id: d.next++, paths: ["src/a.ts"], made: iso(0), until: iso(60) });
    });
    await updateReservations(f.m("a").stateDir, (d) => {
      d.reservations.push({ id: d.next++, paths: ["src/**"], reason: "token ghp_0123456789abcdefghijABCDEFGHIJ012345 inside", made: iso(1), until: iso(90) });
    });
    await f.sync("a", { now: when(2) });
    const first = await f.sync("b", { now: when(3) });
    expect(first.reservationsLost).toEqual([
      { id: 1, paths: ["src/a.ts"], holder: expect.objectContaining({ machine: "a", id: 1, until: iso(90) }), text: expect.stringContaining("lost: a holds src/**") },
    ]);
    expect(await publishedBy(f, "b")).toEqual([]);
    expect((await f.sync("b", { now: when(4) })).reservationsLost).toBeUndefined();
    // What a publishes is redacted.
    expect((await publishedBy(f, "a"))[0]!.reason).toBe("token [REDACTED] inside");
    expect((await f.status()).reservations).toEqual([expect.objectContaining({ machine: "a", id: 1 })]);
  });
});
