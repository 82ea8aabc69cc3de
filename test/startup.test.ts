// COORD_STARTUP_OFF, the bench's switch for the start-up tricks (src/startup/tricks.ts): read in one place.
import { describe, expect, it } from "vitest";
import { TRICKS, trickOff } from "../src/startup/tricks.js";

describe("the start-up tricks' measuring switch", () => {
  it.each([
    [undefined, []],
    ["", []],
    ["codecache", ["codecache"]],
    ["prefetch, earlyclone", ["prefetch", "earlyclone"]],
    ["quiet,parsememo,codecache,prefetch,earlyclone", [...TRICKS]],
    ["cache,pre", []], // a name is matched whole
  ])("COORD_STARTUP_OFF=%s switches off %j and nothing else", (value, off) => {
    const env = value === undefined ? {} : { COORD_STARTUP_OFF: value };
    expect(TRICKS.filter((t) => trickOff(t, env))).toEqual(TRICKS.filter((t) => (off as string[]).includes(t)));
  });
});
