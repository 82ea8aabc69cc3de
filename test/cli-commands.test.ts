// The CLI loads a command's module only when that command runs (src/cli/main.ts):
// its table must name every top-level command each module registers, or a
// command would be missing when run on its own.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram, COMMANDS } from "../src/cli/main.js";

const io = { out: () => {}, err: () => {} };
const names = (program: Command) => program.commands.map((c) => c.name());

describe("the CLI's table of command modules", () => {
  it.each(COMMANDS.map((c) => [c.names.join(", "), c] as const))("%s: the module registers exactly these commands", async (_, entry) => {
    const program = new Command("coord");
    (await entry.load())(program, io);
    expect(names(program)).toEqual(entry.names);
  });

  it("names each command once", () => {
    const all = COMMANDS.flatMap((c) => c.names);
    expect(new Set(all).size).toBe(all.length);
  });

  it("runs a command with its module alone, and with no command loads them all (help, suggestions)", async () => {
    expect(names(await buildProgram(io, ["send", "m2", "hi"]))).toEqual(["send", "inbox", "outbox"]);
    expect(names(await buildProgram(io, ["sync", "--dir", "x"]))).toEqual(["sync"]);
    expect(names(await buildProgram(io, ["--version"]))).toEqual([]);
    for (const argv of [[], ["--help"], ["help", "sync"], ["snyc"], ["--version", "sync"]]) expect(names(await buildProgram(io, argv))).toEqual(COMMANDS.flatMap((c) => c.names));
  });

  it("gives a command the same help loaded alone as among all", async () => {
    const help = async (argv?: string[]) => (await buildProgram(io, argv)).commands.find((c) => c.name() === "sync")!.helpInformation();
    expect(await help(["sync"])).toBe(await help());
  });
});
