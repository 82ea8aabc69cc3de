// coord mcp, end to end: the MCP SDK's own client drives coord's server on real git with two machines. Messages and
// orders go through the tools of one machine's server and arrive at the other's; bad requests, unknown tools, a
// locked, busy or vanished checkout are answered with an error (or a bounded wait) and the server goes on serving.
// The built CLI (node dist/coord.mjs mcp --dir …) on its stdio serves the test about the process (stdout carries
// JSON-RPC only, a session from initialize to a tool's answer); the others run the same server (serveMcp, what coord
// mcp runs) in this process on a pair of streams, newline-delimited JSON-RPC as on stdio: a process of its own each
// would cost a node start and check nothing more. Another process that holds the checkout (a sync, a daemon) is still
// a process of its own. The agent CLIs starting the built server themselves: test/mcp-agents.e2e.test.ts.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MCP_TOOLS } from "../src/core/agents/mcp-config.js";
import lockfile from "proper-lockfile";
import { afterEach, describe, expect, it } from "vitest";
import { call, connectMcp, ok } from "./mcp-client.js";
import { inbox, outbox } from "../src/actions/messages.js";
import { knownFleetPath } from "../src/state/mailbox.js";
import { sync as syncIn } from "../src/sync/sync.js";
import { cliProcess, type Fleet, git, gitDaemon, gitTry, hubFile, makeFleet, pushOrders, readLines, runningCli, setConfig, silentServer, waitFor } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

/** gitTimeout (seconds) where a test makes the hub one that never answers: what a question to it would wait. */
const GIT_TIMEOUT = 8;

/** A client of `coord mcp --dir <machine's checkout>` (test/mcp-client.ts), closed after the test. */
const connect = (machine: string) => connectMcp(dirOf(machine), (stop) => stops.push(stop));

/** coord sync of `machine`, in this process (it throws where coord sync fails). */
async function sync(machine: string): Promise<void> {
  const r = await syncIn({ dir: dirOf(machine) });
  if (r.skipped) throw new Error(`coord sync --dir ${machine} was skipped`);
}

describe("coord mcp through the SDK's client, two machines on real git", () => {
  it("lists its tools with their schemas, and its resources", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    await sync("alpha"); // (alpha registered before beta: its last fetch is older than beta)
    const { client } = await connect("alpha");
    expect(client.getServerVersion()?.name).toBe("coord");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...MCP_TOOLS]);
    const byName = new Map(tools.map((t) => [t.name, t]));
    const send = byName.get("send")!.inputSchema as {
      properties: Record<string, { enum?: string[]; pattern?: string; anyOf?: unknown[] }>;
      required?: string[];
      additionalProperties?: boolean;
    };
    expect(send.required).toEqual(["to", "body"]);
    expect(send.additionalProperties).toBe(false);
    expect(send.properties.priority!.enum).toEqual(["low", "normal", "high", "urgent"]);
    expect(Object.keys(send.properties)).toEqual(["to", "body", "priority", "reply_to", "now", "later"]);
    // order_add's arguments are ORDERS.json's fields, from the same zod schema (descriptions included).
    const order = byName.get("order_add")!.inputSchema as { properties: Record<string, { description?: string; enum?: string[] }>; required?: string[] };
    expect(order.required).toEqual(["to"]);
    expect(order.properties.to!.description).toMatch(/^Who runs this order: a machine name, a list of machine names, "ALL"/);
    expect(order.properties.permissions!.enum).toEqual(["read-only", "edit", "full"]);
    expect(byName.get("inbox")!.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.get("send")!.annotations).toMatchObject({ readOnlyHint: false });
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual(["coord://inbox", "coord://status"]);
    const status = JSON.parse(((await client.readResource({ uri: "coord://status" })).contents[0] as { text: string }).text);
    expect(Object.keys(status.machines).sort()).toEqual(["alpha", "beta"]);
    const me = await ok(client, "whoami");
    expect(me.data).toMatchObject({ machine: "alpha", checkout: dirOf("alpha"), hub: { branch: "main", url: fleet.remote }, peers: [{ name: "beta", online: true }] });
    expect(me.text).toMatch(/^This machine is alpha .*Peers as of commit [0-9a-f]{12}: beta online\.$/);
    // A hub URL with a token in it is never shown.
    await git(dirOf("alpha"), "remote", "set-url", "origin", "https://alpha:ghp_abcdefghijklmnopqrstuvwxyz0123456789@git.example.com/fleet.git");
    const secret = await ok(client, "whoami");
    expect((secret.data.hub as { url: string }).url).toBe("https://[REDACTED]@git.example.com/fleet.git");
    expect(JSON.stringify(secret)).not.toContain("ghp_");
    // Until a sync of this coord wrote the fleet it checks names against (an upgrade), no peer is named unchecked.
    await rm(knownFleetPath(join(dirOf("alpha"), ".git", "coord")));
    const unsynced = await ok(client, "whoami");
    expect(unsynced.data.peers).toEqual([]);
    expect(unsynced.text).toMatch(/Its peers are not known until a sync of this coord: run coord sync\.$/);
  });

  it("a message sent through alpha's server is in beta's inbox exactly once after both sync; beta's ack reaches alpha", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const a = (await connect("alpha")).client;
    const b = (await connect("beta")).client;
    const sent = await ok(a, "send", { to: "beta", body: "please rebase onto main\nthen run the tests", priority: "high", later: true });
    expect(sent.text).toBe("Queued alpha/beta/1 for beta; it goes out with the next sync.");
    // The structured content begins with the text: Claude Code shows the model that, not the text block.
    expect(sent.data).toEqual({ text: sent.text, id: "alpha/beta/1", to: "beta" });
    expect(Object.keys(sent.data)[0]).toBe("text");
    expect((await ok(b, "inbox")).text).toBe("No unread messages.");

    const published = await ok(a, "sync");
    expect(published.data).toMatchObject({ by: "here", done: true, pushed: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const received = await ok(b, "sync");
    expect(received.data).toMatchObject({ by: "here", delivered: ["alpha/beta/1"] });
    expect(received.text).toContain("Received: alpha/beta/1");
    await sync("beta"); // once more, by coord sync: nothing is delivered twice
    const inbox = await ok(b, "inbox");
    expect(inbox.data).toEqual({
      text: inbox.text,
      machine: "beta",
      unread: 1,
      messages: [
        {
          id: "alpha/beta/1",
          from: "alpha",
          to: "beta",
          at: expect.any(String),
          priority: "high",
          text: "please rebase onto main\nthen run the tests",
          replyTo: null,
          acked: false,
        },
      ],
    });
    expect(inbox.text).toMatch(/^1 unread message:\n\* alpha\/beta\/1 from alpha at .*, high:\n {4}please rebase onto main\n {4}then run the tests$/);
    const inboxResource = JSON.parse(((await b.readResource({ uri: "coord://inbox" })).contents[0] as { text: string }).text);
    expect(inboxResource.messages.map((m: { id: string }) => m.id)).toEqual(["alpha/beta/1"]);

    // beta answers and acknowledges, at once.
    // (A send is published at once by default: no sync needed.)
    const reply = await ok(b, "send", { to: "alpha", body: "rebased", reply_to: "alpha/beta/1" });
    expect(reply.data).toMatchObject({ id: "beta/alpha/1", published: { by: "here", pushed: expect.stringMatching(/^[0-9a-f]{40}$/) } });
    expect(reply.text).toMatch(/^Queued beta\/alpha\/1 for alpha; published [0-9a-f]{12}\.$/);
    const acked = await ok(b, "ack", { ids: ["alpha/beta/1"], now: true });
    expect(acked.data).toMatchObject({ acknowledged: ["alpha/beta/1"], published: { by: "here", done: true } });
    expect((await ok(b, "inbox")).data.unread).toBe(0);

    // alpha, before its sync, has not heard of it; after, the thread says acked, and so does its outbox.
    expect((await ok(a, "thread", { with: "beta" })).data.messages).toEqual([expect.objectContaining({ id: "alpha/beta/1", direction: "sent", state: "waiting" })]);
    const got = await ok(a, "sync");
    expect(got.data.delivered).toEqual(["beta/alpha/1"]);
    const thread = await ok(a, "thread", { with: "beta" });
    expect(thread.data.messages).toEqual([
      expect.objectContaining({ id: "alpha/beta/1", from: "alpha", direction: "sent", state: "acked" }),
      expect.objectContaining({ id: "beta/alpha/1", from: "beta", direction: "received", state: "unread", replyTo: "alpha/beta/1", text: "rebased" }),
    ]);
    expect((await outbox(dirOf("alpha"))).messages).toEqual([expect.objectContaining({ id: "alpha/beta/1", recipients: { beta: "acked" } })]);
    // Acknowledged by every recipient and past the retention, the sender's next publish drops it: gone from its outbox.
    await setConfig(dirOf("alpha"), { messageRetention: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    await ok(a, "sync");
    expect((await outbox(dirOf("alpha"))).messages).toEqual([]);
    expect((await ok(a, "thread", { with: "beta" })).data.messages).toEqual([expect.objectContaining({ id: "beta/alpha/1" })]);
  });

  it("an agent asks and waits in one turn: inbox with wait and reply_to returns beta's reply, and only it (no daemon)", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const a = (await connect("alpha")).client;
    const b = (await connect("beta")).client;
    const asked = await ok(a, "send", { to: "beta", body: "which port does the staging server use?" });
    expect(asked.data).toMatchObject({ id: "alpha/beta/1", published: { by: "here" } });
    await ok(b, "sync"); // beta has the question
    const waiting = ok(a, "inbox", { wait: "45s", reply_to: "alpha/beta/1" }); // the most it allows: two sends on a loaded machine (CI) take a while
    await ok(b, "send", { to: "alpha", body: "unrelated" });
    await ok(b, "send", { to: "alpha", body: "8443", reply_to: "alpha/beta/1" });
    const got = await waiting;
    expect(got.data).toMatchObject({ machine: "alpha", arrived: true, messages: [{ id: "beta/alpha/2", from: "beta", text: "8443", replyTo: "alpha/beta/1", acked: false }] });
    expect(got.text).toMatch(/^1 new message:\n\* beta\/alpha\/2 from beta at \S+, normal, reply to alpha\/beta\/1:\n {4}8443$/);
    // Nothing new from beta within the wait: an answer, not an error.
    const none = await ok(a, "inbox", { wait: 1, from: "beta" });
    expect(none.data).toEqual({ text: none.text, machine: "alpha", arrived: false, messages: [] });
    expect(none.text).toBe("No new message from beta arrived within 1 s.");
    for (const [args, message] of [
      [{ wait: "2m" }, /^wait is at most 45 s/],
      [{ wait: "soon" }, /^wait must be a number of seconds or a duration/],
      [{ reply_to: "alpha/beta/1" }, /^reply_to goes with wait/],
      [{ wait: 60 }, /Invalid arguments for tool inbox/],
    ] as const) {
      const r = await call(a, "inbox", args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(r.text).toMatch(message);
    }
  });

  it("an order given through alpha's server runs on beta; its status and history come back through alpha's", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const a = (await connect("alpha")).client;
    const added = await ok(a, "order_add", { to: "beta", run: "echo done", id: "from-mcp", timeout: "2m", now: true });
    expect(added.data).toMatchObject({ id: "from-mcp", file: "coordination/orders/alpha.json", published: { by: "here", done: true } });
    await sync("beta");
    await ok(a, "sync");
    const st = await ok(a, "status", { order: "from-mcp" });
    expect(st.data).toMatchObject({ id: "from-mcp", state: "completed", machines: { beta: { state: "completed", exitCode: 0 } } });
    expect(st.text).toMatch(/^Order from-mcp \(rev 1\) is completed\.\n {2}beta: completed, exit 0, attempt 1/);
    const history = st.data.history as { who: string; what: string }[];
    expect(history[0]).toMatchObject({ what: expect.stringMatching(/^added in coordination\/orders\/alpha\.json \(rev 1, to "beta"/) });
    expect(history.at(-1)).toMatchObject({ who: "beta", what: expect.stringMatching(/^completed/) });
    // In the file coord order add writes, as coord order add writes it (the duration in seconds).
    expect(JSON.parse(await hubFile(fleet, "coordination/orders/alpha.json")).orders).toEqual([{ id: "from-mcp", to: "beta", run: "echo done", timeout: 120 }]);
    const fleetView = await ok(a, "status");
    expect(fleetView.text).toContain("completed: from-mcp");
    expect((await ok(a, "status", { machine: "beta" })).text).toMatch(/^beta is online, idle, .*Tasks: from-mcp completed\.$/);
  });

  it("reservations through the tools: alpha's src/** holds; beta's src/a.ts, made before it saw alpha's, is told it lost, to whom and until when; after alpha releases, beta holds it", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const a = (await connect("alpha")).client;
    const b = (await connect("beta")).client;
    const mine = await ok(a, "reserve", { paths: ["src/**"], for: "2h", reason: "refactoring auth", now: true });
    expect(mine.data.reservation).toMatchObject({ key: "alpha/1", paths: ["src/**"], state: "held" });
    // beta has not synced since: its reservation is judged when it publishes, on the tip that has alpha's.
    const lost = await ok(b, "reserve", { paths: ["src/a.ts"], now: true });
    expect(lost.data.reservation).toMatchObject({ key: "beta/1", state: "lost", lost: { machine: "alpha", id: 1, reason: "refactoring auth" } });
    expect(lost.text).toMatch(/^Not reserved: beta\/1 src\/a\.ts: LOST to alpha\/1 \(src\/\*\*, "refactoring auth"\) until \d{4}-/);
    const seen = await ok(b, "reservations");
    expect(seen.data.fleet).toEqual([expect.objectContaining({ machine: "alpha", id: 1, paths: ["src/**"], reason: "refactoring auth" })]);
    expect(seen.text).toMatch(/Other machines:\n {2}alpha\/1 src\/\*\* until/);
    const released = await ok(a, "release", { paths: ["src/**"], now: true });
    expect(released.data.released).toEqual([expect.objectContaining({ key: "alpha/1" })]);
    const again = await ok(b, "reserve", { paths: ["src/a.ts"], now: true });
    expect(again.data.reservation).toMatchObject({ key: "beta/2", state: "held" });
    expect((await call(b, "release", {})).isError).toBe(true); // nothing named: an error of that call
    expect((await ok(b, "reservations")).data.own).toEqual([expect.objectContaining({ key: "beta/1", state: "lost" }), expect.objectContaining({ key: "beta/2", state: "held" })]);
  });

  it("bad arguments, unknown machines, refused orders and unknown tools are errors of that call, one sentence each; the server goes on", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const { client: a, stderr } = await connect("alpha");
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["send", { to: "beta" }, /^MCP error -32602: Input validation error: Invalid arguments for tool send: .* at body$/],
      ["send", { to: "beta", body: "x", priority: "extreme" }, /Invalid arguments for tool send: .*priority/],
      ["send", { to: "beta", body: "x", colour: "red" }, /Invalid arguments for tool send: .*colour/],
      ["send", { to: "gamma", body: "x" }, /^no machine "gamma" is registered \(known: beta\); check the name, or run coord sync to refresh$/],
      ["send", { to: "alpha", body: "x" }, /^"alpha" is this machine; send to another machine or ALL$/],
      // An agent never decides a request for a permission: a person does (the approve tool asks one).
      ["send", { to: "beta", body: "/approve", reply_to: "beta/alpha/1" }, /^a message that decides a request for a permission \(\/approve, \/deny\) is a person's to send/],
      ["ack", {}, /^name the messages to acknowledge in ids \(from the inbox tool\), or pass all: true$/],
      ["ack", { ids: ["beta/alpha/9"] }, /^not in this machine's inbox: beta\/alpha\/9; .*nothing was acknowledged\)$/],
      ["thread", { with: "betta" }, /^there is no machine "betta" in the fleet \(did you mean beta\?\)/],
      ["status", { order: "nope" }, /^there is no order "nope" in ORDERS.json/],
      ["order_add", { to: "gamma", run: "true" }, /^order .* was not added, nothing was changed: .*no machine named "gamma" is registered/],
      ["order_add", { to: "beta" }, /^order .* was not added, nothing was changed: .*has neither run nor agent/],
      ["order_add", { to: "beta", run: "true", timeout: "soon" }, /Invalid arguments for tool order_add: .*"soon" is not a duration/],
      ["no_such_tool", {}, /^MCP error -32602: Tool no_such_tool not found$/],
    ];
    for (const [name, args, message] of cases) {
      const r = await call(a, name, args);
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(r.text, `${name} ${JSON.stringify(args)}`).toMatch(message);
      expect(r.text).not.toContain("\n");
    }
    expect((await ok(a, "whoami")).data.machine).toBe("alpha"); // still serving
    expect(stderr()).toContain("coord mcp: order_add: order");
  });

  it("stdout carries JSON-RPC only: a line that is not JSON-RPC is answered with a parse error, and the next request is served", async () => {
    fleet = await makeFleet(["alpha", "beta"]); // the fleet of the other tests: its template is built already
    const child = cliProcess(["mcp", "--dir", dirOf("alpha")], { stdin: true });
    stops.push(() => stopChild(child));
    const lines: string[] = [];
    let buffered = "";
    child.stdout!.on("data", (d) => {
      buffered += d;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
    });
    const send = (line: string) => child.stdin!.write(`${line}\n`);
    send("this is not json");
    send(JSON.stringify({ jsonrpc: "2.0", method: "tools/list" })); // no id: a notification shape the server does not know
    send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } }));
    await waitFor(async () => lines.some((l) => l.includes('"id":1')), 20_000, "the initialize answer");
    send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "whoami", arguments: "not an object" } }));
    send(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "whoami", arguments: {} } }));
    await waitFor(async () => lines.some((l) => l.includes('"id":3')), 20_000, "the whoami answer");
    const messages = lines.map((l) => JSON.parse(l) as { jsonrpc: string; id?: number; error?: { code: number }; result?: { structuredContent?: { machine?: string } } });
    for (const m of messages) expect(m.jsonrpc).toBe("2.0");
    expect(messages[0]).toEqual({ jsonrpc: "2.0", error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
    expect(messages.find((m) => m.id === 2)?.error?.code).toBeLessThan(0); // arguments that are no object: an error answer
    expect(messages.find((m) => m.id === 3)?.result?.structuredContent?.machine).toBe("alpha");
  });
});

describe("coord mcp while the checkout is busy, locked or gone", () => {
  it("a sync holding the checkout: reads answer at once, a send is journaled, the sync tool waits for that sync to end and then syncs", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    await pushOrders(fleet, [{ id: "slow", to: "beta", run: "sleep 4" }]);
    const { client: b } = await connect("beta");
    const running = cliProcess(["sync", "--dir", dirOf("beta")]);
    stops.push(() => stopChild(running));
    let endedAt = 0;
    const ended = new Promise<number>((r) =>
      running.once("close", (code) => {
        endedAt = Date.now();
        r(code ?? -1);
      }),
    );
    const journal = join(dirOf("beta"), ".git", "coord", "journal.json");
    await waitFor(async () => (await readLines(journal)).join("").includes('"in_progress"'), 30_000, "the slow task to run");
    const t = Date.now();
    expect((await ok(b, "inbox")).text).toBe("No unread messages.");
    expect((await ok(b, "status")).data.machines).toHaveProperty("beta");
    expect((await ok(b, "inbox")).text).toBe("No unread messages.");
    expect(Date.now() - t).toBeLessThan(3_000);
    // A send is journaled at once; its publish waits a few seconds at most for the sync holding the checkout.
    expect((await ok(b, "send", { to: "alpha", body: "written while a sync runs" })).data.id).toBe("beta/alpha/1");
    expect(Date.now() - t).toBeLessThan(15_000);
    const synced = await ok(b, "sync");
    // It waited for the other sync (its lock) to end, then synced: that sync had run its task to the end. (Its process
    // may still be exiting: under load the send above can wait out the whole sync, and the sync tool follow at once.)
    expect((await readLines(journal)).join("")).toMatch(/"completed"/);
    expect(await ended).toBe(0);
    expect(endedAt).toBeGreaterThan(0);
    expect(synced.data).toMatchObject({ by: "here", done: true });
    await sync("alpha");
    expect((await inbox({ dir: dirOf("alpha") })).messages.map((m) => m.text)).toEqual(["written while a sync runs"]);
  });

  it("a mailbox locked by another process for longer than a call waits: an error saying so, and the next call works", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const { client: a } = await connect("alpha");
    const stateDir = join(dirOf("alpha"), ".git", "coord");
    // A test that fails while holding it must not crash its worker when the fleet is removed (onCompromised throws from a timer).
    const release = await lockfile.lock(join(stateDir, "mailbox"), {
      realpath: false,
      lockfilePath: join(stateDir, "mailbox.lock"),
      update: 1000,
      stale: 3000,
      onCompromised: () => {},
    });
    const blocked = await call(a, "send", { to: "beta", body: "while locked" });
    expect(blocked.isError).toBe(true);
    // The server runs in this process, with the real timings: a lock stale after 10 s, waited for 3 s more.
    expect(blocked.text).toBe("the mailbox stayed locked by another coord process (a sync or a command) for about 13 s; nothing was changed, try again");
    expect((await ok(a, "inbox")).data.unread).toBe(0); // reads never wait for it
    await release();
    expect((await ok(a, "send", { to: "beta", body: "after the lock" })).data.id).toBe("alpha/beta/1");
  });

  it("the checkout moved away (a re-clone under way) and back: errors meanwhile, then served as before", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const { client: a } = await connect("alpha");
    expect((await ok(a, "whoami")).data.machine).toBe("alpha");
    await rename(dirOf("alpha"), `${dirOf("alpha")}.moved`);
    for (const name of ["whoami", "inbox", "status"]) {
      const r = await call(a, name);
      expect(r.isError, name).toBe(true);
      expect(r.text).not.toContain("\n");
    }
    await rename(`${dirOf("alpha")}.moved`, dirOf("alpha"));
    expect((await ok(a, "send", { to: "beta", body: "back" })).data.id).toBe("alpha/beta/1");
  });

  it("with a daemon running, the sync tool asks it: the daemon's sync publishes what the tools journaled", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    // No heartbeat due during the test (the fleet's template may be 2 min old): its sync would publish what the tool asks for.
    await setConfig(dirOf("alpha"), { daemonHeartbeat: "1h" });
    runningCli(["daemon", "run", "--dir", dirOf("alpha"), "--schedule", "0 0 1 1 *", "--jitter", "0"], stops);
    const daemonJson = join(dirOf("alpha"), ".git", "coord", "daemon.json");
    await waitFor(async () => (await readLines(daemonJson)).join("").includes('"lastSync"'), 30_000, "the daemon's first sync");
    const { client: a } = await connect("alpha");
    expect((await ok(a, "whoami")).data.daemon).toBe(true);
    // A send asks the daemon and answers at once; the daemon's sync publishes it.
    const sent = await ok(a, "send", { to: "beta", body: "through the daemon" });
    expect(sent.data).toMatchObject({ published: { by: "daemon" } });
    expect(sent.text).toBe("Queued alpha/beta/1 for beta; the daemon publishes it now.");
    await waitFor(async () => (await gitTry(fleet!.hubPath, "show", "coord:coordination/messages/alpha_TO_beta.md")).ok, 30_000, "the daemon to publish the message");
    await ok(a, "send", { to: "beta", body: "and the sync tool", later: true });
    const r = await ok(a, "sync");
    expect(r.data).toMatchObject({ by: "daemon", done: true, pushed: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(r.text).toMatch(/^the daemon synced: published [0-9a-f]{12}\.$/);
    await sync("beta");
    expect((await inbox({ dir: dirOf("beta") })).messages.map((m) => m.text)).toEqual(["through the daemon", "and the sync tool"]);
  });

  it("on a shallow checkout with the hub gone, an order's status and history still answer, from what the checkout has", async () => {
    const base = await mkdtemp(join(tmpdir(), "coord-mcp-daemon-"));
    stops.push(() => rm(base, { recursive: true, force: true }));
    const daemon = await gitDaemon(base);
    let served = true;
    stops.push(async () => served && (await daemon.stop()));
    fleet = await makeFleet(["alpha", "beta"], { hubPath: join(base, "hub.git"), remote: daemon.url("hub.git") });
    expect(await stat(join(dirOf("alpha"), ".git", "shallow")).catch(() => undefined)).toBeDefined(); // cloned over a URL: shallow
    await pushOrders(fleet, [{ id: "o1", to: "beta", run: "true" }]);
    await sync("beta");
    await sync("alpha");
    await daemon.stop(); // any fetch would fail from here on
    served = false;
    const { client: a } = await connect("alpha");
    const st = await ok(a, "status", { order: "o1" });
    expect(st.data).toMatchObject({ state: "completed" });
    const history = st.data.history as { what: string }[];
    expect(history.at(-1)?.what).toMatch(/^completed/);
    // The boundary commit (which looks as if it added every file) is not taken for the order's addition.
    expect(history.filter((e) => e.what.startsWith("added")).length).toBeLessThanOrEqual(1);
  });

  it("reads answer from local state: a hub that never answers does not hold them", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    await syncIn({ dir: dirOf("alpha") }); // alpha knows beta
    // From here anything that asked the hub would wait out gitTimeout on a server that accepts and never answers.
    await setConfig(dirOf("alpha"), { gitTimeout: GIT_TIMEOUT });
    await git(dirOf("alpha"), "remote", "set-url", "origin", `git://127.0.0.1:${await silentServer(stops)}/x`);
    const { client: a } = await connect("alpha");
    await ok(a, "send", { to: "beta", body: "x", later: true }); // journaled; published by the next sync
    // How fast they answer is the bench's (rows of coord mcp's tool calls); here: none of them waits on the hub.
    for (const [name, args] of [["inbox"], ["whoami"], ["status"], ["thread", { with: "beta" }]] as const) {
      const t = performance.now();
      await ok(a, name, args);
      expect(performance.now() - t, name).toBeLessThan((GIT_TIMEOUT * 1000) / 2);
    }
  });
});

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("close", r));
}
