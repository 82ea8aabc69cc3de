// bench/results.md from a partial run (scripts/bench/results-file.mjs, `node scripts/bench.mjs --only=… --write`): the
// rows measured replace those of the same number, or go in their place by number; each note says it came from the
// partial run; the head names the partial runs' rows; everything else stays as the whole run wrote it.
import { describe, expect, it } from "vitest";
import { withPartialRun } from "../scripts/bench/results-file.mjs";

const WHOLE = [
  "# coord bench",
  "",
  "2026-11-27 15:10 UTC · coord e9bb59f · 2 cores · load average during the run 2.6 (at most 14.3)",
  "",
  "Whole processes against a `git daemon`.",
  "",
  "| # | measurement | coord | raw git | ratio | goal | |",
  "|---|---|---|---|---|---|---|",
  "| 1 | no-op sync | 0.13 s | git fetch 56 ms | 2.38× | ≤ 150 ms | met |",
  "| 4a | 100 machines | 0.16 s | git fetch 57 ms | 2.83× | < 1 s | met |",
  "| 16e | 20 ANY orders | 9 s | — |  | ≤ 30 s | met |",
  "",
  "- 1: ten syncs",
  "- 4a: five syncs",
  "- 16e: 20/20 run",
  "",
  "Small figures:",
  "",
  "| what | figure |",
  "|---|---|",
  "| core: plan | 0.3 ms |",
  "",
].join("\n");

const row = (n: string, figure: string) => ({ n, line: `| ${n} | row ${n} | ${figure} | raw |  | ≤ 5 s | met |`, note: `notes of ${n}` });
const stamp = (date: string) => ({ date, text: "coord abc1234 · load average during the run 3.0 (at most 8.0)", only: "on-call-answer" });

describe("bench/results.md from a partial run", () => {
  it("new rows go in by number after the whole run's, their notes marked; the rest is as it was", () => {
    const out = withPartialRun(WHOLE, [row("17a", "3.0 s"), row("17b", "4.8 s")], stamp("2026-11-28 02:40 UTC"));
    const lines = out.split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "# coord bench",
      "",
      "2026-11-27 15:10 UTC · coord e9bb59f · 2 cores · load average during the run 2.6 (at most 14.3)",
      "",
      "Partial run 2026-11-28 02:40 UTC: rows 17a, 17b; coord abc1234 · load average during the run 3.0 (at most 8.0) (`node scripts/bench.mjs --only=on-call-answer --write`: these rows replace the whole run's, the others are as it measured them)",
      "",
      "Whole processes against a `git daemon`.",
    ]);
    const table = lines.filter((l) => /^\| \d/.test(l)).map((l) => l.split(" | ")[0]);
    expect(table).toEqual(["| 1", "| 4a", "| 16e", "| 17a", "| 17b"]);
    expect(lines.filter((l) => l.startsWith("- "))).toEqual([
      "- 1: ten syncs",
      "- 4a: five syncs",
      "- 16e: 20/20 run",
      "- 17a: (partial run 2026-11-28 02:40 UTC) notes of 17a",
      "- 17b: (partial run 2026-11-28 02:40 UTC) notes of 17b",
    ]);
    // The small figures are untouched, and stay after the notes.
    expect(out.slice(out.indexOf("Small figures:"))).toBe(WHOLE.slice(WHOLE.indexOf("Small figures:")));
  });

  it("a row measured again replaces its line and its note in place; a later partial run takes it out of the earlier one's line", () => {
    const first = withPartialRun(WHOLE, [row("4a", "0.20 s"), row("17a", "3.0 s")], stamp("2026-11-28 02:40 UTC"));
    const second = withPartialRun(first, [row("17a", "2.5 s"), row("1", "0.10 s")], stamp("2026-11-28 03:10 UTC"));
    const lines = second.split("\n");
    expect(lines.filter((l) => l.startsWith("Partial run")).map((l) => l.split(";")[0])).toEqual([
      "Partial run 2026-11-28 02:40 UTC: rows 4a",
      "Partial run 2026-11-28 03:10 UTC: rows 17a, 1",
    ]);
    expect(lines.filter((l) => /^\| \d/.test(l)).map((l) => l.split(" | ").slice(0, 3).join(" | "))).toEqual([
      "| 1 | row 1 | 0.10 s",
      "| 4a | row 4a | 0.20 s",
      "| 16e | 20 ANY orders | 9 s",
      "| 17a | row 17a | 2.5 s",
    ]);
    expect(lines.filter((l) => l.startsWith("- 17a") || l.startsWith("- 4a"))).toEqual([
      "- 4a: (partial run 2026-11-28 02:40 UTC) notes of 4a",
      "- 17a: (partial run 2026-11-28 03:10 UTC) notes of 17a",
    ]);
    // Run again with the same rows: the file does not grow.
    expect(withPartialRun(second, [row("17a", "2.5 s"), row("1", "0.10 s")], stamp("2026-11-28 03:10 UTC"))).toBe(second);
  });

  it("a file no whole run wrote is refused with what to do", () => {
    expect(() => withPartialRun("# notes\n", [row("1", "1 s")], stamp("2026-11-28 02:40 UTC"))).toThrow(/run the whole bench once/);
  });
});
