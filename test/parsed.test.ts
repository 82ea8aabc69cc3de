// The parse cache: results by blob id in the process (core/repo/parsed.ts) and in
// the machine's state dir (state/parsed.ts): hits, misses, errors, a broken
// or foreign file ignored, pruning to what the last sync used, the bounds.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitBlobId } from "../src/core/repo/blob.js";
import { renderComputer } from "../src/core/fleet/computer.js";
import { someOf } from "../src/core/limits.js";
import { messagePath, renderMessageFile } from "../src/core/messages/messages.js";
import { parseOrderSources, reviveOrderSources } from "../src/core/orders/orders.js";
import { MAX_PARSE_ENTRIES, markParsed, parsedFile, parseKey, parseStats, resetParsed, seedParsed } from "../src/core/repo/parsed.js";
import { ORDERS_FILE, readModel } from "../src/core/repo/repo.js";
import { loadParsed, PARSED_FILE, parseParsedFile, renderParsedFile, saveParsed } from "../src/state/parsed.js";
import { sealKey } from "../src/state/seal.js";
import { computerFile } from "./fixtures.js";

beforeEach(() => resetParsed());
afterEach(() => resetParsed());

/** A parse function that counts its calls. */
function counting<T>(value: (text: string) => T) {
  const calls: string[] = [];
  return {
    calls,
    parse: (text: string) => () => {
      calls.push(text);
      return value(text);
    },
  };
}

describe("the parse memo (core/repo/parsed.ts)", () => {
  it("parses a (path, text) once; another text or another path is another entry", () => {
    const c = counting((t) => ({ t }));
    const a = parsedFile("a.md", "one", c.parse("one"));
    expect(parsedFile("a.md", "one", c.parse("one"))).toBe(a); // shared, not parsed again
    parsedFile("a.md", "two", c.parse("two"));
    parsedFile("b.md", "one", c.parse("one"));
    expect(c.calls).toEqual(["one", "two", "one"]);
    expect(parseStats).toEqual({ parsed: 3, reused: 1 });
    expect(parseKey("a.md", "one")).toBe(`${gitBlobId("one")} a.md`);
  });

  it("keeps a failure as the file's problem: the same Error message, not parsed again", () => {
    const c = counting((): never => {
      throw new Error("field x is missing");
    });
    const first = parsedFile("bad.md", "x", c.parse("x"));
    const again = parsedFile("bad.md", "x", c.parse("x"));
    expect(first).toBeInstanceOf(Error);
    expect((again as Error).message).toBe("field x is missing");
    expect(c.calls).toHaveLength(1);
  });

  it("revives a seeded value once, on first use; a value parsed here is never revived", () => {
    const key = parseKey("a.md", "t");
    seedParsed([[key, { v: { n: 1 } }]]);
    let revived = 0;
    const revive = (v: { n: number }) => {
      revived++;
      return { n: v.n + 1 };
    };
    const never = () => {
      throw new Error("parsed although seeded");
    };
    expect(parsedFile("a.md", "t", never, revive)).toEqual({ n: 2 });
    expect(parsedFile("a.md", "t", never, revive)).toEqual({ n: 2 });
    expect(revived).toBe(1);
    parsedFile("b.md", "t", () => ({ n: 7 }), revive);
    expect(parsedFile("b.md", "t", never, revive)).toEqual({ n: 7 });
    expect(revived).toBe(1);
  });

  it("a mark returns what was used since the last one, forgets the rest, and says whether that changed", () => {
    parsedFile("a.md", "1", () => 1);
    parsedFile("b.md", "2", () => 2);
    expect(markParsed()).toMatchObject({ changed: true });
    parsedFile("a.md", "1", () => 1); // a hit: b.md not used this time
    const second = markParsed();
    expect(second.changed).toBe(true); // b.md is forgotten
    expect(second.used.map(([k]) => k)).toEqual([parseKey("a.md", "1")]);
    parsedFile("a.md", "1", () => 1);
    expect(markParsed().changed).toBe(false); // the same file, nothing parsed
    expect(markParsed()).toEqual({ used: [[parseKey("a.md", "1"), { v: 1 }]], changed: false }); // nothing read: nothing forgotten
    parsedFile("b.md", "2", () => 2);
    expect(parseStats.parsed).toBe(3); // b.md was forgotten: parsed again
  });

  it("holds at most MAX_PARSE_ENTRIES entries, however many files one sync reads", () => {
    parsedFile("keep.md", "k", () => "k");
    markParsed();
    parsedFile("keep.md", "k", () => "k");
    for (let i = 0; i < MAX_PARSE_ENTRIES + 10; i++) parsedFile(`f${i}.md`, String(i), () => i);
    const { used } = markParsed();
    expect(used.length).toBeLessThanOrEqual(MAX_PARSE_ENTRIES);
    expect(used.length).toBeGreaterThan(0);
  });
});

describe("readModel with the memo", () => {
  const files = () =>
    new Map([
      [ORDERS_FILE, JSON.stringify({ version: 1, orders: [{ id: "a", to: "izzit7", run: "true" }] })],
      ["coordination/COMPUTER_izzit7.md", renderComputer(computerFile("izzit7"))],
      [
        messagePath("izzit7", "ALL"),
        renderMessageFile({ coord: 1, from: "izzit7", to: "ALL", next: 2, messages: [{ seq: 1, at: "2026-01-01T00:00:00Z", priority: "normal", text: "hi" }] }),
      ],
    ]);

  it("parses each file once: the same files again are one model; a changed file is the only one parsed again", () => {
    const first = readModel(files());
    expect(parseStats.parsed).toBe(3); // the machine file, the message file, the orders
    expect(readModel(files())).toBe(first);
    const changed = files().set(messagePath("izzit7", "ALL"), renderMessageFile({ coord: 1, from: "izzit7", to: "ALL", next: 1, messages: [] }));
    const second = readModel(changed);
    expect(parseStats.parsed).toBe(4);
    expect(second.computers.get("izzit7")).toBe(first.computers.get("izzit7"));
    expect(second.messageFiles[0]!.messages).toEqual([]);
  });

  it("the same files read again after a mark (a daemon's next sync of the same tip) still count as used: the cache keeps them", () => {
    const first = readModel(files());
    expect(markParsed().used).toHaveLength(3);
    expect(readModel(files())).toBe(first); // the model memo answered
    const { used, changed } = markParsed();
    expect(used.map(([key]) => key.slice(41)).sort()).toEqual(["(orders)", "coordination/COMPUTER_izzit7.md", messagePath("izzit7", "ALL")]);
    expect(changed).toBe(false);
    expect(parseStats.parsed).toBe(3);
  });

  it("a model memo whose parse results were forgotten reads again", () => {
    readModel(files());
    markParsed();
    parsedFile("other.md", "x", () => "x"); // a sync that read only another file: the model's results are forgotten
    markParsed();
    readModel(files());
    expect(parseStats.parsed).toBe(7);
  });

  it("a model from kept (JSON) results equals the one parsed, null-prototype tables included", async () => {
    const parsed = readModel(files());
    const { used } = markParsed();
    resetParsed();
    seedParsed(JSON.parse(JSON.stringify(used)));
    const kept = readModel(files());
    expect(parseStats.parsed).toBe(0);
    expect(kept).toStrictEqual(parsed);
    expect(Object.getPrototypeOf(kept.computers.get("izzit7")!.tasks)).toBeNull();
    expect(Object.getPrototypeOf(kept.ordersOrigin)).toBeNull();
  });

  it("orders with secrets come back from JSON as parsed", () => {
    const text = JSON.stringify({ version: 1, orders: [{ id: "s", to: "ANY", run: "x", env: { A: "1", T: { secret: "tok" }, V: { value: "v", secret: true } } }] });
    const parsed = parseOrderSources([{ file: ORDERS_FILE, text }], { machines: [] });
    const revived = reviveOrderSources(JSON.parse(JSON.stringify(parsed)));
    expect(revived).toStrictEqual(parsed);
    expect(Object.getPrototypeOf(revived.orders!.orders[0]!.secretRefs)).toBeNull();
  });
});

describe("the parse cache file (state/parsed.ts)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-parsed-"));
    await sealKey(dir); // made by the first sync (state/delegated.ts), before any agent starts
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const file = () => join(dir, PARSED_FILE);
  const key = Buffer.alloc(32, 3);
  /** The seal key coord made in the state dir. */
  const keyOf = async () => (await sealKey(dir)).key;

  /** One sync's reads: a fresh process (reset, load), the reads, the save. */
  async function syncReads(texts: Record<string, string>, opts: { fresh?: boolean } = {}): Promise<number> {
    if (opts.fresh !== false) resetParsed();
    await loadParsed(dir);
    const before = parseStats.parsed;
    for (const [path, text] of Object.entries(texts)) parsedFile(path, text, () => ({ path, len: text.length }));
    await saveParsed(dir);
    return parseStats.parsed - before;
  }

  it("a new process parses only what it has not seen: nothing, when nothing changed", async () => {
    expect(await syncReads({ "a.md": "1", "b.md": "2" })).toBe(2);
    expect(await syncReads({ "a.md": "1", "b.md": "2" })).toBe(0);
    expect(await syncReads({ "a.md": "1", "b.md": "3" })).toBe(1);
  });

  it("keeps nothing, and takes nothing, in a state dir with no seal key yet", async () => {
    await rm(join(dir, "seal_key"));
    expect(await syncReads({ "a.md": "1" })).toBe(1);
    await expect(stat(file())).rejects.toThrow();
    expect(await syncReads({ "a.md": "1" })).toBe(1);
  });

  it("keeps only what the last sync used", async () => {
    await syncReads({ "a.md": "1", "b.md": "2" });
    await syncReads({ "a.md": "1" });
    const kept = parseParsedFile(await readFile(file(), "utf8"), await keyOf());
    expect(kept?.map(([k]) => k)).toEqual([parseKey("a.md", "1")]);
    expect(await syncReads({ "a.md": "1", "b.md": "2" })).toBe(1);
  });

  it("a sync that read nothing (the hub did not answer) leaves the file as it is", async () => {
    await syncReads({ "a.md": "1", "b.md": "2" });
    const before = await readFile(file(), "utf8");
    await syncReads({});
    await syncReads({}, { fresh: false });
    expect(await readFile(file(), "utf8")).toBe(before);
    expect(await syncReads({ "a.md": "1", "b.md": "2" })).toBe(0);
  });

  it("is not written again when a sync used exactly what it holds", async () => {
    await syncReads({ "a.md": "1" });
    const before = await stat(file());
    await new Promise((r) => setTimeout(r, 20));
    await syncReads({ "a.md": "1" });
    await syncReads({ "a.md": "1" }, { fresh: false }); // a daemon: the memo still has it
    expect((await stat(file())).mtimeMs).toBe(before.mtimeMs);
  });

  it.each([
    ["truncated", (t: string) => t.slice(0, t.length - 5)],
    ["a changed byte", (t: string) => t.replace('"len":1', '"len":7')],
    ["another build", (t: string) => t.replace(/"build":"[^"]*"/, '"build":"0.0.0 1"')],
    ["another format", (t: string) => t.replace('"format":2', '"format":1')],
    ["another seal", (t: string) => t.replace(/"seal":"[0-9a-f]{4}/, '"seal":"0000')],
    ["another result, sealed under another key (an agent's)", () => renderParsedFile([[parseKey("a.md", "1"), { v: { path: "a.md", len: 99 } }]] as never, Buffer.alloc(32, 9))],
    ["not JSON", () => "garbage\n{"],
    ["empty", () => ""],
  ])("a file %s is ignored: everything is parsed, and the file written anew", async (_what, spoil) => {
    await syncReads({ "a.md": "1" });
    await writeFile(file(), spoil(await readFile(file(), "utf8")));
    expect(await syncReads({ "a.md": "1" })).toBe(1);
    expect(parseParsedFile(await readFile(file(), "utf8"), await keyOf())).toHaveLength(1);
  });

  it("a well-formed file of entries that are not parse results is refused whole", () => {
    const render = (entries: unknown[]) => renderParsedFile(entries as never, key);
    expect(parseParsedFile(render([[parseKey("a.md", "1"), { v: 1 }]]), key)).toHaveLength(1);
    expect(parseParsedFile(render([["not-a-blob-id a.md", { v: 1 }]]), key)).toBeUndefined();
    expect(parseParsedFile(render([[parseKey("a.md", "1"), { x: 1 }]]), key)).toBeUndefined();
    expect(parseParsedFile(render([[parseKey("a.md", "1"), { e: 5 }]]), key)).toBeUndefined();
    expect(parseParsedFile(render([[parseKey("a.md", "1")]]), key)).toBeUndefined();
  });

  it("holds at most its byte bound: the entries past it are left out (parsed again next time)", () => {
    const entries: [string, { v: string }][] = Array.from({ length: 10 }, (_, i) => [parseKey(`f${i}`, String(i)), { v: "x".repeat(100) }]);
    const text = renderParsedFile(entries, key, 700);
    const kept = parseParsedFile(text, key)!;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(10);
    expect(text.length - text.indexOf("\n") - 1).toBeLessThanOrEqual(700);
  });

  it("a missing or unreadable state dir costs nothing but the parsing", async () => {
    await rm(dir, { recursive: true });
    expect(await syncReads({ "a.md": "1" })).toBe(1);
    expect(await syncReads({ "a.md": "1" })).toBe(1);
  });
});

describe("someOf", () => {
  it.each([
    [[], ""],
    [["a"], "a"],
    [["a", "b", "c", "d", "e"], "a, b, c, d, e"],
    [["a", "b", "c", "d", "e", "f"], "a, b, c, d, e and 1 more"],
    [Array.from({ length: 10_000 }, (_, i) => `m/x/${i + 1}`), "m/x/1, m/x/2, m/x/3, m/x/4, m/x/5 and 9,995 more"],
  ])("%j → %s", (items, line) => {
    expect(someOf(items)).toBe(line);
  });
});
