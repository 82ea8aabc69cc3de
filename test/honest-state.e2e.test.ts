// Honest words when the hub or this machine's local state is broken (issue 65, items 10, 12, 13): a send while the
// hub cannot be reached says so and when the message goes; a corrupt mailbox.json is said by coord inbox and doctor
// (and the next sync rebuilds it); a corrupt on-call.json keeps what parses, holds the daily budget when today's
// spend is lost, and is said by doctor and coord agent on-call. Real git, the built CLI for the daemon.
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { doctor } from "../src/commands/doctor.js";
import { send } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, makeFleet, setConfig, waitFor, type Fleet } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
const stateDir = (dir: string) => join(dir, ".git", "coord");
const setAsideFiles = async (dir: string, name: string) => (await readdir(stateDir(dir))).filter((f) => f.startsWith(`${name}.corrupt-`));
const inboxTexts = async (dir: string) => JSON.parse((await cli("inbox", "--dir", dir, "--all", "--json")).out) as { id: string; text: string }[];

describe("coord send with the hub gone (item 10)", () => {
  it("with the daemon running: says the hub cannot be reached and when the message goes; it goes once the hub is back", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = dirOf("izzit7");
    await sync({ dir: a });
    await setConfig(a, { failureBackoff: "1s" });
    const start = await cli("daemon", "start", "--dir", a, "--schedule", "*/2 * * * * *", "--jitter", "0");
    expect(start.code, start.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", a));
    await waitFor(async () => (await cli("daemon", "status", "--dir", a)).out.includes("last sync:"), 20_000, "the daemon's first sync");
    await rename(fleet.hubPath, `${fleet.hubPath}.away`);
    stops.unshift(() => rename(`${fleet!.hubPath}.away`, fleet!.hubPath)); // back before cleanup, whatever fails
    // The daemon finds out: a failed look (daemon.json) or a failed sync (health.json).
    await waitFor(
      async () => {
        const info = JSON.parse(await readFile(join(stateDir(a), "daemon.json"), "utf8")) as { lookFailed?: unknown };
        const health = JSON.parse((await readFile(join(stateDir(a), "health.json"), "utf8").catch(() => "{}")) || "{}") as { unreachable?: boolean };
        return info.lookFailed !== undefined || health.unreachable === true;
      },
      30_000,
      "the daemon to find the hub unreachable",
    );
    const r = await cli("send", "--dir", a, "soda-yeti", "while the hub is away");
    expect(r.code, r.err).toBe(0); // sent: stored durably, it goes later (docs/protocol/local-state.md)
    expect(r.out).not.toContain("the daemon publishes it now");
    expect(r.out).toMatch(
      /^sent izzit7\/soda-yeti\/1; the hub cannot be reached \(as of the daemon's last try, at \d{4}-\d\d-\d\dT[^:]+:\d\d:\d\d\.\d+Z: .+\): it is kept here and goes out with the daemon's first sync that reaches the hub \(it tries again at each tick of its schedule "\*\/2 \* \* \* \* \*", next at [^,]+, and with each message sent meanwhile\); coord daemon status shows it$/,
    );
    await rename(`${fleet.hubPath}.away`, fleet.hubPath);
    stops.shift();
    // As said: the daemon's first sync that reaches the hub publishes it, nothing more to do.
    await waitFor(
      async () => {
        await sync({ dir: dirOf("soda-yeti") });
        return (await inboxTexts(dirOf("soda-yeti"))).some((x) => x.text === "while the hub is away");
      },
      30_000,
      "soda-yeti to receive the message once the hub is back",
      500,
    );
  });

  it("with the daemon running and no sync since the hub went: its failed look is enough to say so", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = dirOf("izzit7");
    await sync({ dir: a });
    // Hourly: after its first sync no tick comes; only its looks meet the hub gone.
    const start = await cli("daemon", "start", "--dir", a, "--schedule", "0 0 * * * *", "--jitter", "0");
    expect(start.code, start.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", a));
    await waitFor(async () => (await cli("daemon", "status", "--dir", a)).out.includes("last sync:"), 20_000, "the daemon's first sync");
    await rename(fleet.hubPath, `${fleet.hubPath}.away`);
    stops.unshift(() => rename(`${fleet!.hubPath}.away`, fleet!.hubPath));
    // The daemon's log says its look failed (daemon.out, as under cron or a service manager).
    await waitFor(async () => (await readFile(join(stateDir(a), "daemon.out"), "utf8")).includes("a look at the hub failed"), 30_000, "a failed look in the daemon's log");
    await new Promise((r) => setTimeout(r, 1_000)); // daemon.json is written with the log line, a write's time later
    expect(JSON.parse((await readFile(join(stateDir(a), "health.json"), "utf8").catch(() => "{}")) || "{}")).not.toMatchObject({ unreachable: true });
    const r = await cli("send", "--dir", a, "soda-yeti", "hello");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^sent izzit7\/soda-yeti\/1; the hub cannot be reached \(as of the daemon's last try, at /);
    // As of the failed look daemon.json records.
    const info = JSON.parse(await readFile(join(stateDir(a), "daemon.json"), "utf8")) as { lookFailed?: { at: string } };
    expect(r.out).toContain(`at ${info.lookFailed!.at}: `);
  });

  it("without a daemon: says the hub cannot be reached and that the first sync that reaches it publishes the message", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = dirOf("izzit7");
    await sync({ dir: a });
    await rename(fleet.hubPath, `${fleet.hubPath}.away`);
    const r = await cli("send", "--dir", a, "soda-yeti", "offline");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /^sent izzit7\/soda-yeti\/1; the hub cannot be reached \(could not reach the remote .*\): it is kept here and goes out with the first sync that reaches the hub \(no daemon runs here: coord sync, or coord daemon start to retry on a schedule\)$/,
    );
    await rename(`${fleet.hubPath}.away`, fleet.hubPath);
    await sync({ dir: a });
    await sync({ dir: dirOf("soda-yeti") });
    expect((await inboxTexts(dirOf("soda-yeti"))).map((x) => x.text)).toEqual(["offline"]);
  });
});

describe("a corrupt mailbox.json (item 13)", () => {
  it("coord inbox says it is unreadable, where it went and what the next sync does (exit 1), doctor warns; the next sync rebuilds it", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const [a, b] = [dirOf("izzit7"), dirOf("soda-yeti")];
    for (const t of ["one", "two", "three"]) await send({ dir: a, to: "soda-yeti", text: t });
    await sync({ dir: a });
    await sync({ dir: b });
    expect((await cli("inbox", "--dir", b, "ack", "izzit7/soda-yeti/1", "--later")).code).toBe(0);
    await sync({ dir: b }); // the acknowledgement is published
    const path = join(stateDir(b), "mailbox.json");
    await writeFile(path, '{"version":1,"outbox":{},"inbox":[{"seq":"x"}],"receipts":{}}\n');

    const r = await cli("inbox", "--dir", b);
    expect(r.code).toBe(1);
    expect(r.out).toBe("no messages since the mailbox was set aside");
    const [aside] = await setAsideFiles(b, "mailbox.json");
    expect(aside).toBeDefined();
    expect(r.err).toContain(`coord: this machine's mailbox ${path} could not be read (`);
    expect(r.err).toContain(`was set aside as ${join(stateDir(b), aside!)} at `);
    expect(r.err).toContain(
      "the next sync that reaches the hub (coord sync, or the daemon's) rebuilds it from what this machine published: messages the hub does not show acknowledged are delivered again",
    );
    expect(r.err).toContain("run coord sync to rebuild it now");
    expect(r.err.split("\n")).toHaveLength(1);
    // Said again until a sync rebuilds it (the mailbox now in place says it was set aside), and by doctor.
    expect((await cli("inbox", "--dir", b, "--json")).code).toBe(1);
    // A wait would take every message delivered again for a new one: refused with the same sentence.
    const wait = await cli("inbox", "--dir", b, "--wait", "5s");
    expect(wait.code).toBe(1);
    expect(wait.err).toMatch(/^coord: cannot wait: this machine's mailbox .* run coord sync to rebuild it now, then wait again$/);
    const checks = await doctor({ dir: b });
    const warned = checks.find((c) => c.name === "messages" && c.level === "WARN");
    expect(warned?.detail).toContain(`${path} could not be read (`);
    expect(warned?.detail).toContain(`set aside as ${join(stateDir(b), aside!)}`);
    expect(warned?.fix).toBe("coord sync rebuilds it now (the daemon's next sync does too)");

    // As said: the next sync delivers again what was not acknowledged; the acknowledged one stays so (only in the copy).
    await sync({ dir: b });
    const after = await cli("inbox", "--dir", b, "--all", "--json");
    expect(after.code, after.err).toBe(0);
    expect(after.err).toBe("");
    expect((JSON.parse(after.out) as { id: string; acked: boolean }[]).map((x) => [x.id, x.acked])).toEqual([
      ["izzit7/soda-yeti/2", false],
      ["izzit7/soda-yeti/3", false],
    ]);
    expect((await doctor({ dir: b })).some((c) => c.detail.includes("could not be read"))).toBe(false);
  });
});

describe("a corrupt on-call.json (item 12)", () => {
  it("doctor and coord agent on-call say what was kept, what was lost and where the copy is; --spent-today lifts the hold", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = dirOf("izzit7");
    const path = join(stateDir(a), "on-call.json");
    const session = { agent: "claude", cwd: a, queue: [], lastAt: new Date().toISOString(), session: "sess-1" };
    // A bad hand edit: the spend's amount is text, one thread is no thread.
    await writeFile(
      path,
      JSON.stringify({ version: 1, threads: { "soda-yeti/izzit7/1": session, "soda-yeti/izzit7/2": { agent: null } }, taken: [], spent: { day: "today", usd: "lots" } }),
    );

    const shown = await cli("agent", "on-call", "--dir", a);
    expect(shown.code, shown.err).toBe(0);
    const [aside] = await setAsideFiles(a, "on-call.json");
    expect(aside).toBeDefined();
    expect(shown.out).toContain(`warning: ${path} could not be read (`);
    expect(shown.out).toContain(`set aside as ${join(stateDir(a), aside!)} at `);
    expect(shown.out).toContain("; kept: 1 of 2 threads (1 session); lost: today's spend: its daily budget (when one is set) counts as spent for the rest of today (UTC)");
    expect(shown.out).toContain("1 thread (soda-yeti/izzit7/2): each one's next message starts a new session of the agent");
    expect(shown.out).toContain(
      "spent today: unknown (lost with the damaged on-call state): the daily budget counts as spent for today (UTC); coord agent on-call --spent-today <usd> sets it",
    );
    expect(shown.out).toContain("thread soda-yeti/izzit7/1: claude session sess-1");

    const warned = (await doctor({ dir: a })).find((c) => c.name === "on-call state");
    expect(warned).toMatchObject({ level: "WARN", fix: "check today's spend in the agent CLI's own records, then coord agent on-call --spent-today <usd>" });
    expect(warned!.detail).toContain(`${path} could not be read (`);
    expect(warned!.detail).toContain(`set aside as ${join(stateDir(a), aside!)}`);

    const set = await cli("agent", "on-call", "--spent-today", "0.25", "--dir", a);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toMatch(/^today's spend \(\d{4}-\d\d-\d\d, UTC\) set to \$0\.2500: the daily budget counts from there\n/);
    expect(set.out).toContain("spent today: $0.2500");
    expect(set.out).not.toContain("warning:");
    expect((await doctor({ dir: a })).some((c) => c.name === "on-call state")).toBe(false);
    expect((await cli("agent", "on-call", "--spent-today", "-1", "--dir", a)).code).toBe(2);
  });
});
