// Unit tests for how big a message and a channel may be (core/messages/fit.ts): a text over the limit is refused
// at send and cut when an older coord let it in; a channel over what its recipients read archives delivered
// messages early, then holds the newest back, so its file never goes over and later messages always go.
import { describe, expect, it } from "vitest";
import { unreadable, utf8Length } from "../../../src/core/limits.js";
import { CHANNEL_LIMIT, cutNotice, type Delivery, deliveryOf, fitChannel, MESSAGE_LIMIT, messageTooBig } from "../../../src/core/messages/fit.js";
import { type Message, type MessageFile, messagePath, parseMessageFile, renderMessageFile } from "../../../src/core/messages/messages.js";

const msg = (seq: number, text: string): Message => ({ seq, at: `2026-01-01T00:00:${String(seq % 60).padStart(2, "0")}.000Z`, priority: "normal", text });
const channel = (messages: Message[]): MessageFile => ({ coord: 1, from: "a", to: "b", next: (messages.at(-1)?.seq ?? 0) + 1, messages });
const KiB = 1024;
const text = (bytes: number, ch = "x") => ch.repeat(bytes);
/** Deliveries by seq (the rest open). */
const states = (s: Record<number, Delivery>) => (seq: number) => s[seq] ?? "open";
const size = (f: MessageFile) => utf8Length(renderMessageFile(f));

describe("messageTooBig: one message is at most MESSAGE_LIMIT bytes of UTF-8", () => {
  it.each([
    ["empty", "", false],
    ["at the limit", text(MESSAGE_LIMIT), false],
    ["one byte over", text(MESSAGE_LIMIT + 1), true],
    ["multibyte: 200 Ki characters of 3 bytes", text(200 * KiB, "€"), true],
    ["1.1 MB", text(1_100_000), true],
  ])("%s", (_, t, big) => {
    const why = messageTooBig(t);
    expect(why !== undefined).toBe(big);
    if (why) expect(why).toMatch(/^the message is [\d.]+ (KiB|MiB), more than the 512 KiB one message may be \(a recipient reads at most 2 MiB of a channel/);
  });

  it("a message at the limit, of the worst characters for the file (quotes: escaped in the front matter), fits a channel alone", () => {
    const f = channel([msg(1, text(MESSAGE_LIMIT, '"'))]);
    expect(size(f)).toBeLessThanOrEqual(CHANNEL_LIMIT);
    expect(unreadable(messagePath("a", "b"), renderMessageFile(f))).toBeUndefined();
  });
});

describe("fitChannel", () => {
  const cases: { name: string; messages: [number, number][]; delivery: Record<number, Delivery>; archived: number[]; held: number[]; cut?: number[] }[] = [
    {
      name: "under the limit: as it is",
      messages: [
        [1, 100],
        [2, 400 * KiB],
      ],
      delivery: {},
      archived: [],
      held: [],
    },
    {
      name: "over: acknowledged ones leave first, oldest first",
      messages: [
        [1, 300 * KiB],
        [2, 300 * KiB],
        [3, 300 * KiB],
        [4, 300 * KiB],
      ],
      delivery: { 1: "acked", 2: "acked", 3: "received" },
      archived: [1],
      held: [],
    },
    {
      name: "then received ones (they are in the recipient's mailbox)",
      messages: [
        [1, 300 * KiB],
        [2, 300 * KiB],
        [3, 300 * KiB],
        [4, 300 * KiB],
      ],
      delivery: { 1: "received", 2: "received" },
      archived: [1],
      held: [],
    },
    {
      name: "acknowledged before received, whatever their age",
      messages: [
        [1, 300 * KiB],
        [2, 300 * KiB],
        [3, 300 * KiB],
        [4, 300 * KiB],
      ],
      delivery: { 1: "received", 3: "acked" },
      archived: [3],
      held: [],
    },
    {
      name: "nothing delivered: the newest are held back",
      messages: [
        [1, 300 * KiB],
        [2, 300 * KiB],
        [3, 300 * KiB],
        [4, 300 * KiB],
      ],
      delivery: {},
      archived: [],
      held: [4],
    },
    {
      name: "a text over the limit (an older coord) is cut, and the rest go",
      messages: [
        [1, 100],
        [2, 1_100_000],
        [3, 100],
      ],
      delivery: {},
      archived: [],
      held: [],
      cut: [2],
    },
    {
      name: "many small ones, none delivered: the newest wait",
      messages: Array.from({ length: 3000 }, (_, i): [number, number] => [i + 1, 700]),
      delivery: {},
      archived: [],
      held: [],
    },
  ];
  it.each(cases)("$name", ({ messages, delivery, archived, held, cut }) => {
    const f = channel(messages.map(([seq, n]) => msg(seq, text(n))));
    const fit = fitChannel(f, states(delivery));
    expect(fit.archived).toEqual(archived);
    if (messages.length < 100) expect(fit.held).toEqual(held);
    expect(fit.cut.map((c) => c.seq)).toEqual(cut ?? []);
    // Never over the limit; readable as the recipient reads it; the file's next stops below what is held.
    const rendered = renderMessageFile(fit.file);
    expect(unreadable(messagePath("a", "b"), rendered)).toBeUndefined();
    const parsed = parseMessageFile(rendered, messagePath("a", "b"));
    expect(parsed.next).toBe(fit.held[0] ?? f.next);
    // The outbox keeps all but the archived; the file shows all but the held.
    expect(fit.kept.map((m) => m.seq)).toEqual(f.messages.map((m) => m.seq).filter((s) => !archived.includes(s)));
    expect(parsed.messages.map((m) => m.seq)).toEqual(fit.kept.map((m) => m.seq).filter((s) => !fit.held.includes(s)));
    for (const c of fit.cut) expect(fit.kept.find((m) => m.seq === c.seq)!.text).toBe(cutNotice(c.bytes));
  });

  it("many small messages over the limit, none delivered: the newest are held and the file is as full as it may be", () => {
    const f = channel(Array.from({ length: 3000 }, (_, i) => msg(i + 1, text(700))));
    expect(size(f)).toBeGreaterThan(CHANNEL_LIMIT);
    const fit = fitChannel(f, () => "open");
    expect(fit.held.length).toBeGreaterThan(0);
    expect(fit.held.at(-1)).toBe(3000);
    expect(size(fit.file)).toBeLessThanOrEqual(CHANNEL_LIMIT);
    // One more message would not have fitted.
    const one = { ...f, next: fit.held[1] ?? f.next, messages: [...fit.file.messages, f.messages[fit.file.messages.length]!] };
    expect(size(one)).toBeGreaterThan(CHANNEL_LIMIT);
  });
});

describe("deliveryOf: from the recipients' receipts", () => {
  const receipts = { b: { "a/b": { received: 3, acked: 1, also: [3] } }, c: { "a/ALL": { received: 2, acked: 2 } }, d: { "a/ALL": { received: 1, acked: 0 } } };
  const of = (name: string) => receipts[name as keyof typeof receipts];
  it.each([
    ["a/b: 1 acked", "b", 1, "acked"],
    ["a/b: 2 received", "b", 2, "received"],
    ["a/b: 3 acked (also)", "b", 3, "acked"],
    ["a/b: 4 open", "b", 4, "open"],
    ["a/ALL: 1 received by both", "ALL", 1, "received"],
    ["a/ALL: 2 received by c only", "ALL", 2, "open"],
  ] as const)("%s", (_, to, seq, want) => {
    const f: MessageFile = { coord: 1, from: "a", to, next: 5, messages: [] };
    expect(
      deliveryOf(
        f,
        of,
        ["a", "b", "c", "d"].filter((n) => to === "b" || n !== "b"),
      )(seq),
    ).toBe(want);
  });
});

describe("a request's whole input counts toward its channel", () => {
  it("20 live requests with 64,000 characters of input each are fitted under the limit, the newest held back", () => {
    const requests = Array.from(
      { length: 20 },
      (_, i): Message => ({ ...msg(i + 1, "Permission asked: Write"), agent: { request: "Write", input: "é".repeat(64_000), digest: "0".repeat(64) } }),
    );
    const f = fitChannel(channel(requests), states({}));
    expect(size(f.file)).toBeLessThanOrEqual(CHANNEL_LIMIT);
    expect(f.held.length).toBeGreaterThan(0);
    expect(f.kept).toHaveLength(20); // none lost: held back, kept in the outbox
  });
});
