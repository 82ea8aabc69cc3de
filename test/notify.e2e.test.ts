// Alerts leave the repository (notify in machine.yaml), end to end on real
// git: a command and a webhook on a loopback server are each called once per
// alert across syncs (failed order, urgent message, offline machine); a hook
// that fails or hangs is logged and fails nothing; the webhook's secret never
// reaches a log; the alert's text never reaches a shell.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ack } from "../src/actions/messages.js";
import type { NotifyPayload } from "../src/sync/notify.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliExec, type Fleet, hubStatus, makeFleet, pushOrders, setConfig, tempDir, waitFor, readLines as lines, sendNow } from "./helpers.js";

let fleet: Fleet | undefined;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
const stateOf = (name: string) => join(dirOf(name), ".git", "coord");
const coordLog = (name: string) => readFile(join(stateOf(name), "coord.log"), "utf8");
const notifyRecords = async (name: string) =>
  (await coordLog(name))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.kind === "notify");

/** A notify command that appends its stdin and its environment's alert to files in `out`. */
async function recorder(): Promise<{ out: string; command: string; calls: () => Promise<NotifyPayload[]>; env: () => Promise<string[]> }> {
  const out = await tempDir("coord-notify-");
  const command = `cat >> '${out}/stdin.jsonl'; printf '%s|%s|%s|%s\\n' "$COORD_ALERT_ID" "$COORD_ALERT_KIND" "$COORD_MACHINE" "$COORD_ALERT_TEXT" >> '${out}/env.txt'`;
  return {
    out,
    command,
    calls: async () => (await lines(join(out, "stdin.jsonl"))).map((l) => JSON.parse(l) as NotifyPayload),
    env: () => lines(join(out, "env.txt")),
  };
}

/** A loopback server that keeps every request; `answer` says what it does with the next ones. */
async function hookServer(): Promise<{
  port: number;
  got: { url: string; method: string; type: string; body: NotifyPayload }[];
  answer: (how: (res: ServerResponse) => void) => void;
}> {
  const got: { url: string; method: string; type: string; body: NotifyPayload }[] = [];
  let how: (res: ServerResponse) => void = (res) => res.writeHead(204).end();
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      got.push({ url: req.url ?? "", method: req.method ?? "", type: req.headers["content-type"] ?? "", body: JSON.parse(body) });
      how(res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { port, got, answer: (h) => (how = h) };
}

describe("notify", () => {
  it("a failed order calls the command exactly once across syncs, with the alert on stdin and in the environment", async () => {
    fleet = await makeFleet(["alpha", "bravo"]);
    const hook = await recorder();
    await setConfig(dirOf("alpha"), { notify: { command: hook.command } });
    await pushOrders(fleet, [{ id: "boom", to: "alpha", run: "echo the disk is gone; exit 3" }]);
    const first = await sync({ dir: dirOf("alpha") });
    expect(first.ran.map((t) => [t.id, t.state])).toEqual([["boom", "failed"]]);
    const id = "failed/boom/1/alpha/1";
    expect(first.notified).toEqual([{ id, ok: true }]);
    const again = await cli("sync", "--dir", dirOf("alpha"));
    expect(again.code).toBe(0);
    expect(again.out).not.toContain("notified");
    await sync({ dir: dirOf("alpha") });
    const calls = await hook.calls();
    expect(calls).toEqual([
      {
        coord: 1,
        text: "coord (alpha): boom failed on alpha: exit code 3",
        alert: expect.objectContaining({ id, kind: "failed", order: "boom", machine: "alpha", text: "boom failed on alpha: exit code 3" }),
        machine: "alpha",
        fleet: expect.objectContaining({ machines: 2, offline: [], alerts: 1 }),
      },
    ]);
    expect(await hook.env()).toEqual([`${id}|failed|alpha|boom failed on alpha: exit code 3`]);
    expect(await notifyRecords("alpha")).toEqual([expect.objectContaining({ alert: id, alertKind: "failed", ok: true, via: ["command"] })]);
    // Recorded in the local state, and the file does not wake quiet syncs.
    expect(JSON.parse(await readFile(join(stateOf("alpha"), "notified.json"), "utf8")).alerts).toEqual({ [id]: { at: expect.any(String) } });
    expect((await sync({ dir: dirOf("alpha") })).quiet).toBe(true);
  });

  it("a webhook on a loopback server receives the alert's JSON once; a failing and a hanging one fail no sync, are logged, and the URL's secret is in no log", async () => {
    fleet = await makeFleet(["alpha", "bravo"]);
    const hooks = await hookServer();
    const secretPath = "T0SECRET0PATH0B1234";
    const secretQuery = "s3cr3t-QUERY-9f8e7d";
    const url = `http://127.0.0.1:${hooks.port}/services/${secretPath}?token=${secretQuery}`;
    // 5 s: a loaded machine (CI) answered the first POST on loopback later than 1 s, and it counted as hanging.
    await setConfig(dirOf("alpha"), { notify: { webhook: url, timeout: "5s" } });
    await pushOrders(fleet, [{ id: "boom", to: "alpha", run: "exit 3" }]);
    // The built CLI as cron runs it: it ends by itself after the POST (no socket keeps it alive).
    const first = await cliExec(["sync", "--dir", dirOf("alpha")]);
    expect(first.code).toBe(0);
    expect(first.out).toContain("notified 1 alert: failed/boom/1/alpha/1");
    // The next sync (in this process) sends nothing again.
    expect((await cli("sync", "--dir", dirOf("alpha"))).code).toBe(0);
    expect(hooks.got).toHaveLength(1);
    expect(hooks.got[0]).toMatchObject({ method: "POST", url: `/services/${secretPath}?token=${secretQuery}`, type: "application/json" });
    expect(hooks.got[0]!.body).toMatchObject({ coord: 1, machine: "alpha", alert: { id: "failed/boom/1/alpha/1", kind: "failed" }, fleet: { machines: 2 } });

    // It answers 500 with the token in its body: the sync goes on, the failure is one sentence, redacted.
    hooks.answer((res) => res.writeHead(500).end(`bad token ${secretQuery}\n`));
    await pushOrders(fleet, [
      { id: "boom", to: "alpha", run: "exit 3" },
      { id: "boom2", to: "alpha", run: "exit 4" },
    ]);
    const progress: string[] = [];
    const failing = await sync({ dir: dirOf("alpha"), log: (l) => progress.push(l) });
    expect(failing.notified).toEqual([{ id: "failed/boom2/1/alpha/1", ok: false, error: expect.stringContaining("answered HTTP 500") }]);
    expect(failing.notified![0]!.error).toBe(
      `notify: the webhook http://127.0.0.1:${hooks.port} for failed/boom2/1/alpha/1 answered HTTP 500 (bad token [REDACTED]); it is not sent again`,
    );
    // It never answers: given up after the timeout.
    hooks.answer(() => {});
    await pushOrders(fleet, [
      { id: "boom", to: "alpha", run: "exit 3" },
      { id: "boom2", to: "alpha", run: "exit 4" },
      { id: "boom3", to: "alpha", run: "exit 5" },
    ]);
    const hanging = await sync({ dir: dirOf("alpha"), log: (l) => progress.push(l) });
    expect(hanging.ran.map((t) => t.id)).toEqual(["boom3"]);
    expect(hanging.notified).toEqual([
      {
        id: "failed/boom3/1/alpha/1",
        ok: false,
        error: `notify: the webhook http://127.0.0.1:${hooks.port} for failed/boom3/1/alpha/1 did not answer within 5s; it is not sent again`,
      },
    ]);
    expect(hooks.got.map((g) => g.body.alert.id)).toEqual(["failed/boom/1/alpha/1", "failed/boom2/1/alpha/1", "failed/boom3/1/alpha/1"]);
    // Not again, though they failed: at most once.
    await sync({ dir: dirOf("alpha") });
    expect(hooks.got).toHaveLength(3);
    expect((await notifyRecords("alpha")).map((r) => [r.alert, r.ok])).toEqual([
      ["failed/boom/1/alpha/1", true],
      ["failed/boom2/1/alpha/1", false],
      ["failed/boom3/1/alpha/1", false],
    ]);
    // Nowhere in the local state's logs, nor in what the sync printed, nor in what it published.
    const state = stateOf("alpha");
    for (const file of (await readdir(state, { recursive: true })).filter((f) => /log/.test(f))) {
      const text = await readFile(join(state, file), "utf8").catch(() => "");
      expect(text, file).not.toContain(secretPath);
      expect(text, file).not.toContain(secretQuery);
    }
    for (const text of [progress.join("\n"), first.out, first.err, JSON.stringify(await hubStatus(fleet))]) {
      expect(text).not.toContain(secretPath);
      expect(text).not.toContain(secretQuery);
    }
  });

  it("a failing and a hanging command fail no sync: each is one sentence in coord.log; the hanging one is stopped with its whole process group", async () => {
    fleet = await makeFleet(["alpha", "bravo"]);
    const out = await tempDir("coord-notify-");
    await setConfig(dirOf("alpha"), { notify: { command: "echo cannot page anyone >&2; exit 7" } });
    await pushOrders(fleet, [{ id: "boom", to: "alpha", run: "exit 3" }]);
    const failing = await cli("sync", "--dir", dirOf("alpha"));
    expect(failing.code).toBe(0);
    expect(failing.err).toContain("warning: notify: the command for failed/boom/1/alpha/1 exited 7 (cannot page anyone); it is not sent again");

    // It starts a child in the background and waits: both go at the timeout.
    await setConfig(dirOf("alpha"), { notify: { command: `sleep 300 & echo $! > '${out}/child.pid'; wait`, timeout: "1s" } });
    await pushOrders(fleet, [
      { id: "boom", to: "alpha", run: "exit 3" },
      { id: "boom2", to: "alpha", run: "exit 4" },
    ]);
    const hanging = await sync({ dir: dirOf("alpha") });
    expect(hanging.notified).toEqual([
      {
        id: "failed/boom2/1/alpha/1",
        ok: false,
        error: "notify: the command for failed/boom2/1/alpha/1 timed out after 1s and was stopped with its process group; it is not sent again",
      },
    ]);
    const child = Number((await readFile(join(out, "child.pid"), "utf8")).trim());
    expect(child).toBeGreaterThan(0);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(async () => !alive(child), 5000, "the hook's background child to be gone");
    expect((await notifyRecords("alpha")).map((r) => [r.alert, r.ok, r.error])).toEqual([
      ["failed/boom/1/alpha/1", false, expect.stringContaining("exited 7")],
      ["failed/boom2/1/alpha/1", false, expect.stringContaining("timed out after 1s")],
    ]);
  });

  it("an urgent message alerts once, its text reaching the command as data only, never through a shell", async () => {
    fleet = await makeFleet(["alpha", "bravo"]);
    const hook = await recorder();
    await setConfig(dirOf("bravo"), { notify: { command: hook.command, kinds: ["urgent"] } });
    const text = "disk full $(touch PWNED1) `touch PWNED2` \"; touch PWNED3 '; touch PWNED4";
    await sendNow({ dir: dirOf("alpha"), to: "bravo", text, priority: "urgent" });
    await sendNow({ dir: dirOf("alpha"), to: "bravo", text: "just so you know" });
    const first = await sync({ dir: dirOf("bravo") });
    expect(first.delivered).toEqual(["alpha/bravo/1", "alpha/bravo/2"]);
    expect(first.notified).toEqual([{ id: "alpha/bravo/1", ok: true }]);
    await sync({ dir: dirOf("bravo") });
    const calls = await hook.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.alert).toMatchObject({ id: "alpha/bravo/1", kind: "urgent", from: "alpha", to: "bravo", recipients: ["bravo"], text });
    expect(await hook.env()).toEqual([`alpha/bravo/1|urgent|bravo|${text}`]);
    for (const dir of [hook.out, dirOf("bravo")]) expect((await readdir(dir)).filter((f) => f.startsWith("PWNED"))).toEqual([]); // the command's cwd is the checkout
    // Acknowledged, the alert is gone: it is marked so (and forgotten a day later), never sent again.
    await ack(dirOf("bravo"), ["alpha/bravo/1"], false);
    await sync({ dir: dirOf("bravo") });
    expect(JSON.parse(await readFile(join(stateOf("bravo"), "notified.json"), "utf8")).alerts["alpha/bravo/1"]).toEqual({ at: expect.any(String), gone: expect.any(String) });
    expect(await hook.calls()).toHaveLength(1);
  });

  it("an offline machine alerts once, at the first sync after its offline time, though syncs before it were quiet", async () => {
    fleet = await makeFleet(["alpha", "charlie"]);
    const hook = await recorder();
    await setConfig(dirOf("charlie"), { heartbeat: "1m" });
    // Its last word, when its heartbeat is due (a shorter heartbeat goes out with it): offline 3 minutes later.
    await sync({ dir: dirOf("charlie"), now: () => new Date(Date.now() + 61_000) });
    expect((await hubStatus(fleet)).machines.charlie?.heartbeat).toBe(60);
    const seen = Date.parse((await hubStatus(fleet)).machines.charlie!.lastSeen);
    await setConfig(dirOf("alpha"), { notify: { command: hook.command } });
    const offlineAt = seen + 3 * 60_000; // offline strictly after
    const at = (ms: number) => () => new Date(ms);
    const start = await sync({ dir: dirOf("alpha"), now: at(seen + 1000) });
    expect(start.quiet).toBeUndefined();
    expect(start.notified).toBeUndefined();
    // Quiet until charlie's offline time: nothing to notify yet.
    expect((await sync({ dir: dirOf("alpha"), now: at(offlineAt - 1) })).quiet).toBe(true);
    // At that very instant a reader still calls it online (stale): the stamp holds to the first instant it is
    // offline (core/fleet/presence.ts offlineChangesAt), so this sync is answered quietly, and nothing is alerted.
    const edge = await sync({ dir: dirOf("alpha"), now: at(offlineAt) });
    expect(edge.quiet).toBe(true);
    expect(edge.notified).toBeUndefined();
    // The next instant it is offline: that sync is not answered by the stamp, and the alert goes out.
    const after = await sync({ dir: dirOf("alpha"), now: at(offlineAt + 1) });
    expect(after.quiet).toBeUndefined();
    const id = `offline/charlie/${new Date(seen).toISOString()}`;
    expect(after.notified).toEqual([{ id, ok: true }]);
    await sync({ dir: dirOf("alpha"), now: at(offlineAt + 60_000) });
    await sync({ dir: dirOf("alpha"), now: at(offlineAt + 120_000) });
    expect((await hook.calls()).map((c) => [c.alert.id, c.alert.kind, c.fleet.offline])).toEqual([[id, "offline", ["charlie"]]]);
    expect((await hook.env())[0]).toMatch(/^offline\/charlie\/.*\|offline\|alpha\|charlie is offline: last seen 3 min ago \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
  });

  it("alerts already there when notify is first configured: a few calls, then one summary of the rest", async () => {
    fleet = await makeFleet(["alpha", "bravo"]);
    const hook = await recorder();
    await pushOrders(
      fleet,
      Array.from({ length: 7 }, (_, i) => ({ id: `boom${i + 1}`, to: "alpha", run: `exit ${i + 1}` })),
    );
    await sync({ dir: dirOf("alpha") }); // all seven fail before notify is configured
    await setConfig(dirOf("alpha"), { notify: { command: hook.command } });
    const r = await sync({ dir: dirOf("alpha") });
    expect(r.notified?.map((n) => n.id)).toEqual([
      "failed/boom1/1/alpha/1",
      "failed/boom2/1/alpha/1",
      "failed/boom3/1/alpha/1",
      "failed/boom4/1/alpha/1",
      expect.stringMatching(/^summary\//),
    ]);
    await sync({ dir: dirOf("alpha") });
    const calls = await hook.calls();
    expect(calls).toHaveLength(5);
    expect(calls[4]!.alert).toMatchObject({
      kind: "summary",
      text: "3 more alerts (3 failed): see STATUS.md",
      alerts: ["failed/boom5/1/alpha/1", "failed/boom6/1/alpha/1", "failed/boom7/1/alpha/1"],
    });
  });
});

// The quiet stamp ignores the record (state/quiet.ts): writing it changes nothing a sync acts on.
describe("notified.json and the quiet stamp", () => {
  it("a rewritten record leaves the quiet sync quiet", async () => {
    fleet = await makeFleet(["alpha"]);
    await setConfig(dirOf("alpha"), { notify: { command: "true" } });
    await sync({ dir: dirOf("alpha") });
    await sync({ dir: dirOf("alpha") });
    await writeFile(join(stateOf("alpha"), "notified.json"), `${JSON.stringify({ coord: 1, alerts: { x: { at: new Date().toISOString() } } })}\n`);
    expect((await sync({ dir: dirOf("alpha") })).quiet).toBe(true);
  });
});
