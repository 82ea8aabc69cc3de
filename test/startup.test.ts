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

describe("the quiet sync's modules", () => {
  // A cron `coord sync` with nothing new is answered by src/sync/quiet.ts before the CLI loads (row 1): what it
  // imports, statically and all the way down, loads no package (zod, yaml, …), only Node's own modules. A package
  // there costs every quiet sync its loading: a wake's names once pulled zod in through core/hub/wakes.ts (+40 ms).
  it("import no package, only node: modules", async () => {
    const { readFile } = await import("node:fs/promises");
    const { dirname, join, normalize } = await import("node:path");
    const src = join(import.meta.dirname, "..", "src");
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = async (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = await readFile(join(src, file), "utf8");
      // Static imports and re-exports, type-only ones left out (they load nothing).
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith(".")) await visit(normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts"));
        else if (!spec.startsWith("node:")) packages.add(`${spec} (from ${file})`);
      }
    };
    await visit("sync/quiet.ts");
    expect(seen.has("git/remote-tip.ts")).toBe(true);
    expect([...packages]).toEqual([]);
  });
});
