// Durations (src/core/time/duration.ts): parsed as ORDERS.json writes them, and
// formatted for people.
import { describe, it, expect } from "vitest";
import { formatDuration, parseDuration } from "../../../src/core/time/duration.js";

describe("parseDuration / formatDuration", () => {
  it("reads the units and numbers of seconds", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("15m")).toBe(900);
    expect(parseDuration("2h")).toBe(7200);
    expect(parseDuration("1d")).toBe(86400);
    expect(parseDuration("1.5h")).toBe(5400);
    expect(parseDuration(" 15m ")).toBe(900);
    expect(parseDuration(300)).toBe(300);
    expect(parseDuration(0.5)).toBe(0.5);
  });

  it("refuses anything else", () => {
    for (const bad of ["ten minutes", "", " ", "-5m", "0s", "0", "15", "15M", "m", "1w", "1h30m", "1e3s", "Infinitys"])
      expect(parseDuration(bad), JSON.stringify(bad)).toBeUndefined();
    for (const bad of [0, -5, NaN, Infinity]) expect(parseDuration(bad), String(bad)).toBeUndefined();
  });

  it("formats with the largest exact unit", () => {
    expect(formatDuration(90)).toBe("90s");
    expect(formatDuration(900)).toBe("15m");
    expect(formatDuration(7200)).toBe("2h");
    expect(formatDuration(86400)).toBe("1d");
    expect(formatDuration(5400)).toBe("90m");
    for (const s of [1, 59, 60, 90, 300, 3600, 5400, 86400, 172800]) expect(parseDuration(formatDuration(s))).toBe(s);
  });
});
