// coord order add / cancel / list and coord log, end to end on real git: a
// machine delegates work through its own orders file, a person adds and cancels
// in ORDERS.json as themselves without disturbing the rest of the file, and an
// invalid order is refused before anything is written.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { orderLog } from "../src/actions/log.js";
import { readDelegated, ownOrdersFile } from "../src/state/delegated.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliExec, git, hubCommits, hubFile, hubHead, hubStatus, makeFleet, peopleHead, personIdentity, pushOrders, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
const stateOf = (name: string) => join(dirOf(name), ".git", "coord");

/** ORDERS.json as a person formats it: one order per line, uneven spacing. */
const HAND_WRITTEN = `{
  "$schema": "coordination/orders.schema.json",
  "version": 1,
  "orders": [
    { "id": "first",  "to": "izzit7", "run": "true" },
    {"id":"second","to":"ALL","run":"echo 2",   "priority": "low"}
  ]
}
`;

describe("coord order (a machine delegates)", () => {
  it("add → published at once in coordination/orders/<name>.json (no sync) → the target runs it", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const added = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--run", "echo delegated to $COORD_MACHINE", "--id", "from-izzit7", "--timeout", "1m");
    expect(added).toMatchObject({ code: 0, out: expect.stringMatching(/^added order from-izzit7 to coordination\/orders\/izzit7.json; published [0-9a-f]{12}$/) });
    expect((await readDelegated(stateOf("izzit7"))).orders).toEqual([{ id: "from-izzit7", to: "soda-yeti", run: "echo delegated to $COORD_MACHINE", timeout: "1m" }]);

    const own = await ownOrdersFile(stateOf("izzit7"), "izzit7");
    expect(await hubFile(fleet, "coordination/orders/izzit7.json")).toBe(own && "content" in own ? own.content : own);

    const ran = await sync({ dir: dirOf("soda-yeti") });
    expect(ran.ran).toEqual([expect.objectContaining({ id: "from-izzit7", state: "completed" })]);
    expect((await hubStatus(fleet)).orders["from-izzit7"]).toMatchObject({ state: "completed", to: "soda-yeti" });

    // list, from the delegating machine after a sync
    await sync({ dir: dirOf("izzit7") });
    const list = JSON.parse((await cli("order", "list", "--dir", dirOf("izzit7"), "--json")).out);
    expect(list).toEqual([{ id: "from-izzit7", origin: "coordination/orders/izzit7.json", rev: 1, to: "soda-yeti", state: "completed", machines: { "soda-yeti": "completed" } }]);

    // A person cannot cancel it in ORDERS.json: the machine owns it.
    await personIdentity(fleet);
    const refused = await cli("order", "cancel", "from-izzit7", "--human", "--dir", fleet.person);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("delegated by machine izzit7");
  });

  it("gives a readable unique id; cancel marks only this machine's own orders", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await pushOrders(fleet, HAND_WRITTEN);
    await sync({ dir: dirOf("izzit7"), run: false });
    const a = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti,izzit7", "--run", "true");
    const b = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "ALL", "--run", "true", "--after", "first", "--priority", "high", "--retries", "2");
    const c = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "ANY", "--every", "0 3 * * *", "--timezone", "Europe/Paris", "--id", "nightly", "--", "true");
    expect(c).toMatchObject({ code: 0 });
    const ids = [a, b].map((r) => /^added order (\S+) /.exec(r.out)![1]!);
    for (const id of ids) expect(id).toMatch(/^izzit7-\d{14}-[a-z0-9]{4}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect((await readDelegated(stateOf("izzit7"))).orders).toEqual([
      { id: ids[0], to: ["soda-yeti", "izzit7"], run: "true" },
      { id: ids[1], to: "ALL", run: "true", after: ["first"], retries: 2, priority: "high" },
      { id: "nightly", to: "ANY", run: "true", every: "0 3 * * *", timezone: "Europe/Paris" },
    ]);

    expect((await cli("order", "cancel", ids[0]!, "--dir", dirOf("izzit7"), "--later")).out).toBe(
      `cancelled order ${ids[0]} in coordination/orders/izzit7.json; it is published at the next sync`,
    );
    expect((await cli("order", "cancel", ids[0]!, "--dir", dirOf("izzit7"))).out).toBe(`order ${ids[0]} was already cancelled in coordination/orders/izzit7.json`);
    expect((await readDelegated(stateOf("izzit7"))).orders[0]).toMatchObject({ cancelled: true });

    const notMine = await cli("order", "cancel", "first", "--dir", dirOf("izzit7"));
    expect(notMine.code).toBe(2);
    expect(notMine.err).toContain("it is in ORDERS.json");
    expect((await cli("order", "cancel", "nope", "--dir", dirOf("soda-yeti"))).code).toBe(2);
  });

  it("an invalid add is refused with exit 2 and the problems, and changes nothing", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await pushOrders(fleet, HAND_WRITTEN);
    await sync({ dir: dirOf("izzit7"), run: false });
    const head = await hubHead(fleet);

    const ghost = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "ghost", "--run", "true", "--id", "g");
    expect(ghost.code).toBe(2);
    expect(ghost.err).toContain("order g was not added");
    // Named by the flag that set it, not by a place in a file the user never wrote.
    expect(ghost.err).toContain('  --to: order "g" field to: no machine named "ghost" is registered');
    const dup = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--run", "true", "--id", "first");
    expect(dup.code).toBe(2);
    expect(dup.err).toContain('order id "first" is already used in ORDERS.json at line 5');
    const badTimeout = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--run", "true", "--timeout", "soon");
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.err).toMatch(/\n {2}--timeout: .*soon/);
    const badEvery = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--run", "true", "--every", "0 25 * * *");
    expect(badEvery.code).toBe(2);
    expect(badEvery.err).toMatch(/\n {2}--every: .*the hour field: 25 is not within 0-23/);
    const badZone = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--run", "true", "--every", "@daily", "--timezone", "Europe/Pariss");
    expect(badZone.code).toBe(2);
    expect(badZone.err).toMatch(/\n {2}--timezone: .*"Europe\/Pariss" is not a time zone/);
    expect(await ownOrdersFile(stateOf("izzit7"), "izzit7")).toBeUndefined();

    await personIdentity(fleet);
    const human = await cli("order", "add", "--human", "--dir", fleet.person, "--to", "soda-yeti", "--run", "true", "--after", "nope", "--id", "h");
    expect(human.code).toBe(2);
    expect(human.err).toContain('  --after: order "h" field after: there is no order "nope"');
    expect(await hubHead(fleet)).toBe(head);
    expect(await readFile(join(fleet.person, "ORDERS.json"), "utf8")).toBe(HAND_WRITTEN);
  });
});

describe("coord order add --agent", () => {
  it("an agent order from the command line: the prompt whole (from stdin too), permissions checked per CLI and named by flag", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const added = await cli(
      "order",
      "add",
      "--dir",
      dirOf("izzit7"),
      "--to",
      "soda-yeti",
      "--agent",
      "claude",
      "--prompt",
      "-fix it, 'now'\nplease",
      "--permissions",
      "edit",
      "--idle-timeout",
      "5m",
      "--id",
      "a1",
    );
    expect(added).toMatchObject({ code: 0 });
    const piped = await cliExec(
      ["order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--agent", "codex", "--prompt", "-", "--id", "a2"],
      Buffer.from("a prompt\nfrom a file\n"),
    );
    expect(piped).toMatchObject({ code: 0 });
    expect((await readDelegated(stateOf("izzit7"))).orders).toEqual([
      { id: "a1", to: "soda-yeti", agent: "claude", prompt: "-fix it, 'now'\nplease", permissions: "edit", idleTimeout: "5m" },
      { id: "a2", to: "soda-yeti", agent: "codex", prompt: "a prompt\nfrom a file\n" },
    ]);
    const refused = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--agent", "cursor", "--prompt", "x", "--permissions", "edit");
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/\n {2}--permissions: .*cursor cannot run with permissions "edit"/);
    const both = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--agent", "claude", "--prompt", "x", "--", "make");
    expect(both).toMatchObject({ code: 2, err: expect.stringContaining("not both") });
    const noPrompt = await cli("order", "add", "--dir", dirOf("izzit7"), "--to", "soda-yeti", "--agent", "claude");
    expect(noPrompt).toMatchObject({ code: 2, err: expect.stringContaining("--prompt") });
  });
});

describe("coord order --human (a person, in any clone)", () => {
  it("adds to ORDERS.json changing only the inserted order, as the clone's git user; the target runs it", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await pushOrders(fleet, HAND_WRITTEN);
    await personIdentity(fleet);
    const r = await cli("order", "add", "--human", "--dir", fleet.person, "--to", "soda-yeti", "--run", "echo hi", "--id", "by-pat");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^added order by-pat to ORDERS.json; pushed [0-9a-f]{12}$/);

    const expected = HAND_WRITTEN.replace(
      `"priority": "low"}\n  ]`,
      `"priority": "low"},\n    {\n      "id": "by-pat",\n      "to": "soda-yeti",\n      "run": "echo hi"\n    }\n  ]`,
    );
    expect(await hubFile(fleet, "ORDERS.json")).toBe(expected);
    const [last] = await hubCommits(fleet);
    expect(last).toMatchObject({ author: "Pat Person", paths: ["ORDERS.json"] });
    expect((await git(fleet.hubPath, "log", "-1", "--format=%ae %cn <%ce>", "main")).trim()).toBe("pat@example.com Pat Person <pat@example.com>");
    // The person's clone is fast-forwarded to it.
    expect((await git(fleet.person, "rev-parse", "HEAD")).trim()).toBe(await peopleHead(fleet));
    expect(await readFile(join(fleet.person, "ORDERS.json"), "utf8")).toBe(expected);

    const ran = await sync({ dir: dirOf("soda-yeti") });
    expect(ran.ran).toEqual(expect.arrayContaining([expect.objectContaining({ id: "by-pat", state: "completed" })]));

    // cancel, in place
    const c = await cli("order", "cancel", "first", "--human", "--dir", fleet.person);
    expect(c.code).toBe(0);
    expect(await hubFile(fleet, "ORDERS.json")).toBe(expected.replace(`"run": "true" }`, `"run": "true", "cancelled": true }`));
    expect((await cli("order", "cancel", "first", "--human", "--dir", fleet.person)).out).toBe("order first was already cancelled in ORDERS.json");

    // list, from the person's clone (its last fetch is its own push)
    await git(fleet.person, "fetch", "--quiet", "origin");
    const list = await cli("order", "list", "--dir", fleet.person);
    expect(list.out.split("\n")).toEqual([
      "first  cancelled  to izzit7  rev 1  ORDERS.json",
      "second  queued  to ALL  rev 1  ORDERS.json",
      "by-pat  completed  to soda-yeti  rev 1  ORDERS.json",
    ]);

    // With uncommitted edits in the clone: pushed without them, the edits kept, and how to bring both together.
    const edited = (await readFile(join(fleet.person, "ORDERS.json"), "utf8")).replace('"run": "echo hi"', '"run": "echo hi there"');
    expect(edited).toContain("echo hi there");
    await writeFile(join(fleet.person, "ORDERS.json"), edited);
    const withEdits = await cli("order", "add", "--human", "--dir", fleet.person, "--to", "soda-yeti", "--run", "echo again", "--id", "by-pat-2");
    expect(withEdits.code).toBe(0);
    expect(withEdits.err).toContain("git stash && git pull --ff-only && git stash pop");
    expect(await readFile(join(fleet.person, "ORDERS.json"), "utf8")).toBe(edited);
    expect(await hubFile(fleet, "ORDERS.json")).toContain('"id": "by-pat-2"');
  });

  it("without a git identity in the clone it says how to set one, and changes nothing", async () => {
    fleet = await makeFleet(["izzit7"]);
    const head = await hubHead(fleet);
    const r = await cli("order", "add", "--human", "--dir", fleet.person, "--to", "izzit7", "--run", "true");
    expect(r.code).toBe(2);
    expect(r.err).toContain("has no git user.name");
    expect(r.err).toContain('config user.name "Your Name"');
    expect(await hubHead(fleet)).toBe(head);
  });

  it("redoes its commit on the new tip when someone pushed first", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await personIdentity(fleet);
    // Both push at once: the person's add and the machines' syncs.
    const results = await Promise.all([
      cli("order", "add", "--human", "--dir", fleet.person, "--to", "izzit7", "--run", "true", "--id", "race"),
      sync({ dir: dirOf("izzit7"), run: false }),
      sync({ dir: dirOf("soda-yeti"), run: false }),
    ]);
    expect(results[0]).toMatchObject({ code: 0 });
    expect(JSON.parse(await hubFile(fleet, "ORDERS.json")).orders.map((o: { id: string }) => o.id)).toEqual(["race"]);
    const reflog = await git(fleet.hubPath, "reflog", "show", "main");
    expect(reflog).not.toMatch(/forced-update/);
  });
});

describe("coord log", () => {
  it("shows the order being added, run on a machine and completed, then cancelled", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await personIdentity(fleet);
    await cli("order", "add", "--human", "--dir", fleet.person, "--to", "soda-yeti", "--run", "echo hi", "--id", "hello");
    await sync({ dir: dirOf("soda-yeti") });
    await cli("order", "cancel", "hello", "--human", "--dir", fleet.person);
    await sync({ dir: dirOf("izzit7"), run: false });

    const events = await orderLog({ dir: dirOf("izzit7"), id: "hello" });
    expect(events.map((e) => `${e.who}: ${e.what}`)).toEqual([
      'Pat Person: added in ORDERS.json (rev 1, to "soda-yeti", run "echo hi")',
      "soda-yeti: completed (rev 1, attempt 1, exit 0)",
      "Pat Person: cancelled",
    ]);
    for (const e of events) {
      expect(e.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(Date.parse(e.at)).not.toBeNaN();
    }

    const text = await cli("log", "hello", "--dir", dirOf("izzit7"));
    expect(text.code).toBe(0);
    expect(text.out.split("\n")[1]).toMatch(/^\S+ {2}[0-9a-f]{10} {2}soda-yeti: completed \(rev 1, attempt 1, exit 0\)$/);
    expect(JSON.parse((await cli("log", "hello", "--dir", dirOf("izzit7"), "--json")).out)).toEqual(events);
    // A short window still starts from what was there before it (izzit7 merely read the cancel: it pushed nothing).
    // The smallest window that shows anything starts at the cancel: 1 commit, or more where a machine's commit came
    // after it (CI saw one on a busy machine): what was before the window is read, not shown as "added".
    let shown: string[] = [];
    for (let maxCount = 1; maxCount <= 5 && shown.length === 0; maxCount++) shown = (await orderLog({ dir: dirOf("izzit7"), id: "hello", maxCount })).map((e) => e.what);
    expect(shown).toEqual(["cancelled"]);
    expect((await cli("log", "nope", "--dir", dirOf("izzit7"))).out).toBe("no history for order nope in the last 300 commits");
  });

  it("shows an author and a command as a person may be shown them: escapes and bidi controls written as \\u", async () => {
    fleet = await makeFleet(["izzit7"]);
    await personIdentity(fleet, "Mal\u001b]0;T\u0007\u202e");
    expect((await cli("order", "add", "--human", "--dir", fleet.person, "--to", "izzit7", "--run", "echo \u202ehi\u009b2J", "--id", "odd")).code).toBe(0);
    await sync({ dir: dirOf("izzit7"), run: false });
    const events = await orderLog({ dir: dirOf("izzit7"), id: "odd" });
    expect(events.map((e) => `${e.who}: ${e.what}`)).toEqual(['Mal\\u001b]0;T\\u0007\\u202e: added in ORDERS.json (rev 1, to "izzit7", run "echo \\u202ehi\\u009b2J")']);
    const text = await cli("log", "odd", "--dir", dirOf("izzit7"));
    expect(text.out).not.toMatch(/[\u001b\u0007\u202e\u009b]/);
    // The id typed, and a count that cannot be, are said as a person may be shown them.
    expect((await cli("log", "a\u001b[31mb", "--dir", dirOf("izzit7"))).out).toBe("no history for order a\\u001b[31mb in the last 300 commits");
    expect((await cli("log", "odd", "--max-count", "0", "--dir", dirOf("izzit7"))).err.trim()).toBe('coord: --max-count must be a whole number, 1 or more, not "0"');
  });
});
