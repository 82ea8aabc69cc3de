// Fuzzing what coord reads, part two: mutated message files and whole tree listings go through reading, planning,
// status and rendering (fuzz-pieces.ts); mutated local journals and mailboxes through reading and planning. Part one,
// ORDERS.json and machine files: fuzz.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderComputer } from "../src/core/fleet/computer.js";
import { messagePath, renderMessageFile } from "../src/core/messages/messages.js";
import { computerPath } from "../src/core/files/names.js";
import { plan } from "../src/core/machine/plan.js";
import { readModel } from "../src/core/repo/repo.js";
import { deriveStatus } from "../src/core/status/status.js";
import { parseJournal } from "../src/state/journal.js";
import { parseMailbox } from "../src/state/mailbox.js";
import { T0_ISO } from "./fixtures.js";
import { base, computerArb, deepJson, edits, machine, messageFileArb, mutate, name, NOW, odd, ordersDoc, params, pathArb, throughEverything } from "./fuzz-pieces.js";

describe("fuzz: what the repository holds never stops or fools a machine", () => {
  it("mutated message files", () => {
    fc.assert(
      fc.property(messageFileArb("alpha", "beta"), messageFileArb("beta", "ALL"), computerArb("beta"), edits, (ab, ball, b, e) => {
        const files = base(JSON.stringify({ version: 1, orders: [] }));
        files.set(messagePath("alpha", "beta"), mutate(renderMessageFile(ab), e));
        files.set(messagePath("beta", "ALL"), renderMessageFile(ball));
        files.set(computerPath("beta"), renderComputer(b));
        throughEverything(files);
      }),
      params(),
    );
  });

  it("tree listings with odd paths and any file anywhere", () => {
    const texts = fc.oneof(
      computerArb("alpha").map(renderComputer),
      messageFileArb("alpha", "constructor").map(renderMessageFile),
      ordersDoc.map((d) => JSON.stringify(d)),
      fc.string({ maxLength: 50 }),
      fc.constantFrom("", "---\n---\n", "---js\nprocess.exit(1)\n---\n", `---\nx: ${deepJson(3000)}\n---\n`),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(pathArb, texts, edits), { maxLength: 8 }), ordersDoc, (entries, doc) => {
        const files = base(JSON.stringify(doc));
        for (const [path, text, e] of entries) files.set(path, mutate(text, e));
        throughEverything(files);
      }),
      params(),
    );
  });
});

describe("fuzz: local state a crash or a hand edit broke is read or refused, never thrown", () => {
  const journalText = fc
    .dictionary(
      name,
      fc.record({
        rev: fc.oneof(fc.integer({ min: 1, max: 3 }), odd),
        state: fc.oneof(fc.constantFrom("completed", "failed", "assigned", "in_progress"), odd),
        attempts: fc.oneof(fc.nat(5), odd),
      }),
      { maxKeys: 4 },
    )
    .map((tasks) => JSON.stringify({ version: 1, tasks, lastPublished: T0_ISO }, null, 2));
  const mailboxText = fc
    .tuple(machine, fc.nat(5))
    .map(([to, n]) =>
      JSON.stringify({ version: 1, outbox: { [to]: { next: n + 1, messages: [] } }, inbox: [], receipts: { [`${to}/alpha`]: { received: n, acked: n } } }, null, 2),
    );

  it("mutated journals and mailboxes", () => {
    fc.assert(
      fc.property(journalText, mailboxText, edits, edits, (j, m, ej, em) => {
        const journal = parseJournal(mutate(j, ej));
        const mailbox = parseMailbox(mutate(m, em));
        for (const r of [journal, mailbox]) if (typeof r === "string") expect(r.length).toBeGreaterThan(3);
        if (typeof journal === "string") return;
        // What was read is what the planner gets: it plans on it without a throw.
        const model = readModel(
          base(
            JSON.stringify({
              version: 1,
              orders: [
                { id: "constructor", to: "ANY", run: "true" },
                { id: "a", to: "alpha", run: "true" },
              ],
            }),
          ),
        );
        plan({
          orders: model.orders?.orders ?? [],
          machine: "alpha",
          machines: model.machineNames,
          journal: journal.tasks,
          status: deriveStatus(model),
          capabilities: {},
          now: NOW,
          maxParallel: 2,
          retryBackoff: 30,
          lease: 600,
        });
      }),
      params(),
    );
  });
});
