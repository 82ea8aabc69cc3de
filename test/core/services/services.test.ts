// Services as pure rules: reading the entries (each on its own), restarts with
// backoff within a start-limit window, health transitions, what to do with a
// service given desired vs observed, and what is published of it.
import { describe, expect, it } from "vitest";
import { parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { haltOf, readControls } from "../../../src/core/hub/controls.js";
import { computerPath } from "../../../src/core/files/names.js";
import { readModel } from "../../../src/core/repo/repo.js";
import { deriveStatus } from "../../../src/core/status/status.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import { machineText, statusText } from "../../../src/core/status/terminal.js";
import { computerFile } from "../../fixtures.js";
import { parseOrders } from "../../../src/core/orders/orders.js";
import {
  healthNext,
  healthStart,
  type Observed,
  planServices,
  type RecordView,
  readServices,
  restartDecision,
  type ServicesRead,
  serviceReports,
} from "../../../src/core/services/services.js";

const file = (services: unknown, extra: object = {}) => JSON.stringify({ version: 1, orders: [], services, ...extra }, null, 2);
const web = { id: "web", to: "m1", run: "node server.js" };

describe("readServices", () => {
  it("reads a valid entry with its defaults", () => {
    const r = readServices(file([web]), ["m1"]);
    expect(r.problems).toEqual([]);
    expect(r.services).toEqual([expect.objectContaining({ id: "web", to: "m1", run: "node server.js", rev: 1, cancelled: false, restart: { max: 3, window: 600, delay: 1 } })]);
    expect(r.services[0]!.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ["a missing run", { id: "a", to: "m1" }, /service "a" is missing field "run"/],
    ["an unknown field, with a suggestion", { ...web, helth: {} }, /service "web" has an unknown field "helth"; rename it to "health"/],
    ["ANY", { ...web, to: "ANY" }, /not "ANY"/],
    ["a bad duration in health", { ...web, health: { run: "true", interval: "soon" } }, /service "web" field health.interval: "soon" is not a duration/],
    ["a health check more often than every second", { ...web, health: { run: "true", interval: 0.01 } }, /service "web" field health.interval: 0.01s is too often/],
    ["a health check that is neither run nor http", { ...web, health: { interval: "5s" } }, /needs exactly one of run \(a command\) or http/],
    ["a health URL elsewhere", { ...web, health: { http: "http://example.com/health" } }, /an http URL on this machine/],
    ["an unknown field of restart", { ...web, restart: { maxx: 2 } }, /service "web" field restart has an unknown field "maxx"; rename it to "max"/],
    ["a bad env name", { ...web, env: { "1X": "v" } }, /not a valid variable name/],
  ])("%s is that entry's problem, located by line", (_what, entry, message) => {
    const r = readServices(file([entry, { id: "ok", to: "m1", run: "true" }]), ["m1"]);
    expect(r.readable).toBe(true);
    expect(r.problems.map((p) => p.message).join("\n")).toMatch(message);
    expect(r.problems[0]!.line).toBeGreaterThan(1);
    expect(r.services.map((s) => s.id)).toEqual(["ok"]); // the other service is fine
    if (typeof (entry as { id?: unknown }).id === "string") expect(r.invalid).toEqual([(entry as { id: string }).id]);
  });

  it("a bad service leaves the orders valid", () => {
    const text = JSON.stringify({ version: 1, orders: [{ id: "o", to: "m1", run: "true" }], services: [{ id: "x", to: "m1" }] });
    expect(parseOrders(text, { machines: ["m1"] }).orders?.orders.map((o) => o.id)).toEqual(["o"]);
  });

  it("services belong in ORDERS.json only", () => {
    const text = JSON.stringify({ version: 1, orders: [], services: [web] });
    expect(parseOrders(text, { file: "coordination/orders/m1.json" }).problems.map((p) => p.message)).toEqual([expect.stringMatching(/services belongs in ORDERS.json/)]);
  });

  it.each([
    ["no services field", JSON.stringify({ version: 1, orders: [] }), true, 0],
    ["no file", undefined, true, 0],
    ["not JSON", '{"version": 1, "services": [', false, 0],
    ["services not a list", file({ web }), false, 1],
  ])("%s", (_what, text, readable, problems) => {
    const r = readServices(text as string | undefined);
    expect(r.readable).toBe(readable);
    expect(r.problems).toHaveLength(problems);
    expect(r.services).toEqual([]);
  });

  it("an id written twice: the second is the problem, the first runs", () => {
    const r = readServices(file([web, { ...web, run: "other" }]));
    expect(r.services.map((s) => s.run)).toEqual(["node server.js"]);
    expect(r.problems[0]!.message).toMatch(/service id "web" is already used at line 6/);
  });

  it("a name that is not registered is said; the service is still read", () => {
    const r = readServices(file([{ ...web, to: ["m1", "ghost"] }]), ["m1"]);
    expect(r.services).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/no machine named "ghost"/);
  });

  it("names from the repository stay data: an id like __proto__ is refused, constructor is an id", () => {
    const r = readServices(file([{ ...web, id: "constructor" }]), ["m1"]);
    expect(r.services.map((s) => s.id)).toEqual(["constructor"]);
    expect(readServices(file([{ ...web, id: "__proto__" }])).invalid).toEqual(["__proto__"]);
    const refs = readServices(file([{ ...web, env: { constructor: { secret: "s" } } }])).services[0]!.secretRefs!;
    expect(Object.getPrototypeOf(refs)).toBeNull();
    expect(refs.constructor).toBe("s");
  });

  it.each([
    ["rev", { rev: 2 }, true],
    ["run", { run: "node other.js" }, true],
    ["env", { env: { PORT: "1" } }, true],
    ["health", { health: { run: "true" } }, true],
    ["to", { to: ["m1", "m2"] }, false],
    ["cancelled", { cancelled: true }, false],
  ])("a change of %s changes the hash: %s", (_field, change, differs) => {
    const a = readServices(file([web])).services[0]!.hash;
    const b = readServices(file([{ ...web, ...change }])).services[0]!.hash;
    expect(a !== b).toBe(differs);
  });
});

describe("restartDecision", () => {
  const policy = { max: 3, window: 600, delay: 1 };
  const T = 1_000_000_000;
  it.each([
    ["the first exit: restarted after the delay", [], { restart: true, delay: 1 }],
    ["the second in the window: doubled", [T - 10_000], { restart: true, delay: 2 }],
    ["the third: doubled again", [T - 20_000, T - 10_000], { restart: true, delay: 4 }],
    ["the fourth in the window: failed", [T - 30_000, T - 20_000, T - 10_000], { restart: false }],
    ["old restarts fall out of the window", [T - 700_000, T - 650_000, T - 10_000], { restart: true, delay: 2 }],
  ])("%s", (_what, restarts, expected) => {
    const d = restartDecision(restarts, T, policy, "killed by SIGKILL");
    expect(d).toMatchObject(expected);
    if (d.restart) expect(d.restarts.at(-1)).toBe(T + d.delay * 1000);
    else expect(d.reason).toMatch(/^killed by SIGKILL; restarted 3 times within 10m already \(restart.max 3\): failed/);
  });

  it("the delay is capped at 5 minutes", () => {
    const d = restartDecision(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => 1_000_000 - n),
      1_000_000,
      { max: 100, window: 86_400, delay: 60 },
      "x",
    );
    expect(d).toMatchObject({ restart: true, delay: 300 });
  });

  it("max 0: never restarted", () => {
    expect(restartDecision([], 0, { max: 0, window: 600, delay: 1 }, "exit code 1").restart).toBe(false);
  });
});

describe("healthNext", () => {
  const t0 = new Date("2026-01-01T00:00:00Z");
  const t1 = new Date("2026-01-01T00:00:30Z");
  const fail = { ok: false as const, reason: "exit code 1" };
  it.each([
    ["starting, a success: healthy now", healthStart(t0), { ok: true as const }, 3, { status: "healthy", failures: 0, since: t1.toISOString() }],
    ["starting, one failure of 3: still starting", healthStart(t0), fail, 3, { status: "starting", failures: 1, since: t0.toISOString(), reason: "exit code 1" }],
    ["starting, failure 1 of 1: unhealthy", healthStart(t0), fail, 1, { status: "unhealthy", failures: 1, since: t1.toISOString(), reason: "exit code 1" }],
    [
      "healthy, the third failure: unhealthy",
      { status: "healthy" as const, failures: 2, since: t0.toISOString() },
      fail,
      3,
      { status: "unhealthy", failures: 3, since: t1.toISOString() },
    ],
    [
      "unhealthy stays so, since unchanged",
      { status: "unhealthy" as const, failures: 3, since: t0.toISOString() },
      fail,
      3,
      { status: "unhealthy", failures: 4, since: t0.toISOString() },
    ],
    [
      "unhealthy, a success: healthy",
      { status: "unhealthy" as const, failures: 5, since: t0.toISOString() },
      { ok: true as const },
      3,
      { status: "healthy", failures: 0, since: t1.toISOString() },
    ],
    [
      "healthy, a success: since unchanged",
      { status: "healthy" as const, failures: 1, since: t0.toISOString() },
      { ok: true as const },
      3,
      { status: "healthy", failures: 0, since: t0.toISOString() },
    ],
  ])("%s", (_what, prev, result, after, expected) => {
    expect(healthNext(prev, result, after, t1)).toMatchObject(expected);
  });
});

describe("planServices", () => {
  const read = (services: unknown[], extra: Partial<ServicesRead> = {}) => ({ ...readServices(file(services)), ...extra });
  const hash = (entry: object) => readServices(file([entry])).services[0]!.hash;
  const obs = (state: Observed["state"], h = hash(web)) => new Map<string, Observed>([["web", { state, hash: h }]]);
  const emergency = haltOf("m1", readControls(file([], { emergency: { stop: true, reason: "r" } })));
  const paused = haltOf("m1", readControls(file([])), { stop: false });
  it.each([
    ["wanted, not running: start", read([web]), new Map(), undefined, "start"],
    ["wanted elsewhere only: nothing", read([{ ...web, to: "m2" }]), new Map(), undefined, undefined],
    ["ALL: start", read([{ ...web, to: "ALL" }]), new Map(), undefined, "start"],
    ["running as wanted: keep", read([web]), obs("running"), undefined, "keep"],
    ["waiting to restart: keep", read([web]), obs("backoff"), undefined, "keep"],
    ["failed, same definition: stays failed", read([web]), obs("failed"), undefined, "keep"],
    ["failed, rev bumped: restarted", read([{ ...web, rev: 2 }]), obs("failed"), undefined, "restart"],
    ["running, rev bumped: restarted once", read([{ ...web, rev: 2 }]), obs("running"), undefined, "restart"],
    ["running, restarted already: keep", read([{ ...web, rev: 2 }]), obs("running", hash({ ...web, rev: 2 })), undefined, "keep"],
    ["stopped, wanted: started again", read([web]), obs("stopped"), undefined, "start"],
    ["removed: stopped", read([]), obs("running"), undefined, "stop"],
    ["addressed elsewhere now: stopped", read([{ ...web, to: "m2" }]), obs("running"), undefined, "stop"],
    ["cancelled: stopped", read([{ ...web, cancelled: true }]), obs("running"), undefined, "stop"],
    ["cancelled and stopped: keep", read([{ ...web, cancelled: true }]), obs("stopped"), undefined, "keep"],
    ["its entry is invalid now: left as it is", read([{ id: "web", to: "m1" }]), obs("running"), undefined, "keep"],
    ["the file is unreadable: left as it is", { readable: false, services: [], invalid: [], problems: [] }, obs("running"), undefined, "keep"],
    ["an emergency stop: stopped", read([web]), obs("running"), emergency, "stop"],
    ["an emergency stop: nothing starts", read([web]), new Map(), emergency, "keep"],
    ["an emergency stop, stopped already: keep", read([web]), obs("stopped"), emergency, "keep"],
    ["paused: what runs goes on", read([web]), obs("running"), paused, "keep"],
    ["paused: nothing starts", read([web]), new Map(), paused, "keep"],
  ])("%s", (_what, r, observed, halt, action) => {
    expect(planServices("m1", r as ServicesRead, observed as Map<string, Observed>, halt).get("web")?.do).toBe(action);
  });

  it("a stop by the emergency says why", () => {
    expect(planServices("m1", read([web]), obs("running"), emergency).get("web")).toEqual({ do: "stop", reason: "emergency stop: r", by: "halt" });
  });
});

describe("serviceReports", () => {
  const read = readServices(file([web, { id: "off", to: "m1", run: "x", cancelled: true }]));
  const rec = (over: Partial<RecordView> = {}): RecordView => ({
    rev: 1,
    hash: read.services[0]!.hash,
    state: "running",
    pid: 42,
    restarts: [1, 2],
    startedAt: "2026-01-01T00:00:00.000Z",
    since: "2026-01-01T00:00:00.000Z",
    ...over,
  });
  it.each([
    ["no daemon: waiting for one", new Map(), false, { web: { state: "waiting", reason: expect.stringMatching(/^needs a daemon/) }, off: { state: "cancelled" } }],
    ["running under the daemon", new Map([["web", rec()]]), true, { web: { state: "running", pid: 42, restarts: 2, startedAt: "2026-01-01T00:00:00.000Z" } }],
    ["failed: no pid", new Map([["web", rec({ state: "failed", reason: "r" })]]), true, { web: { state: "failed", reason: "r" } }],
    [
      "unhealthy: its reason",
      new Map([["web", rec({ health: { status: "unhealthy", failures: 3, since: "x", reason: "exit code 7" } })]]),
      true,
      { web: { state: "running", health: "unhealthy", reason: "unhealthy: exit code 7" } },
    ],
    ["a record of a service removed, still running: reported", new Map([["gone", rec()]]), true, { gone: { state: "running" } }],
    ["running with its daemon gone: said", new Map([["web", rec()]]), false, { web: { state: "running", reason: expect.stringMatching(/daemon is not running/) } }],
  ])("%s", (_what, records, supervised, expected) => {
    const reports = serviceReports("m1", read, records as Map<string, RecordView>, { supervised });
    expect(reports).toMatchObject(expected);
  });

  it("a failed report has no pid", () => {
    expect(serviceReports("m1", read, new Map([["web", rec({ state: "failed" })]]), { supervised: true }).web!.pid).toBeUndefined();
  });
});

describe("services in the machine file, STATUS and STATUS.md", () => {
  const T = "2026-01-01T00:00:00.000Z";
  const running = { rev: 2, state: "running" as const, pid: 42, restarts: 1, startedAt: T, since: T, health: "healthy" as const, output: "```\n<details>listening\n---" };
  const failed = { rev: 1, state: "failed" as const, restarts: 3, since: T, reason: "killed by SIGKILL; restarted 3 times" };
  const files = (
    services: object | undefined,
    orders = file([
      { ...web, rev: 2 },
      { id: "db", to: "m1", run: "x" },
    ]),
  ) => {
    const c = computerFile("m1", { lastSeen: "2026-01-01T01:00:00.000Z", ...(services ? { services } : {}) } as never);
    return new Map([
      ["ORDERS.json", orders],
      [computerPath("m1"), renderComputer(c)],
    ]);
  };

  it("a machine file with services reads back as written; one written before services reads as before", () => {
    const text = renderComputer(computerFile("m1", { services: { web: running, db: failed } } as never));
    expect(text).toContain("### Service web");
    expect(parseComputer(text, "m1").services).toEqual({ db: failed, web: running });
    expect(Object.getPrototypeOf(parseComputer(text, "m1").services)).toBeNull();
    expect(parseComputer(renderComputer(computerFile("m1")), "m1").services).toBeUndefined();
  });

  it("a services key that is no service id makes the file unreadable, as for tasks", () => {
    const text = renderComputer(computerFile("m1", { services: { web: running } } as never)).replace('"web":', '"__proto__":');
    expect(() => parseComputer(text, "m1")).toThrow(/field services: "__proto__" is not a service id/);
  });

  it("STATUS.json lists each service with each machine's report (output in the machine file only), and alerts a failed one", () => {
    const status = deriveStatus(readModel(files({ web: running, db: failed })));
    expect(status.services).toEqual({
      db: { rev: 1, to: "m1", machines: { m1: { rev: 1, state: "failed", restarts: 3, since: T, reason: "killed by SIGKILL; restarted 3 times" } } },
      web: { rev: 2, to: "m1", machines: { m1: { rev: 2, state: "running", pid: 42, restarts: 1, startedAt: T, since: T, health: "healthy" } } },
    });
    expect(status.alerts).toEqual([
      { id: `service/db/1/m1/failed/${T}`, kind: "service", service: "db", machine: "m1", at: T, text: "service db is failed on m1: killed by SIGKILL; restarted 3 times" },
    ]);
    const md = renderStatusMd(status);
    expect(md).toContain("## Services");
    expect(md).toMatch(/\| web \(rev 2\) \| ▶ running \(healthy\) \| \[m1\]\(coordination\/COMPUTER_m1\.md#service-web\) · 1 restarts · up 1 h/);
    expect(md).toContain("- db on m1: killed by SIGKILL; restarted 3 times");
    expect(md).toMatch(/⚙ \*\*service\*\*: \[service db is failed on m1/);
  });

  it("no services: STATUS.json has no services field (files of before keep their bytes)", () => {
    expect(deriveStatus(readModel(files(undefined, JSON.stringify({ version: 1, orders: [] })))).services).toBeUndefined();
  });

  it("a bad service entry is an error of STATUS, the orders stay valid", () => {
    const model = readModel(files(undefined, file([{ id: "x", to: "m1" }], { orders: [{ id: "o", to: "m1", run: "true" }] })));
    expect(model.orders?.orders.map((o) => o.id)).toEqual(["o"]);
    expect(deriveStatus(model).errors.map((e) => e.message)).toEqual([expect.stringMatching(/service "x" is missing field "run"/)]);
  });

  it("an unhealthy service is an alert with its reason; a waiting one is none", () => {
    const unhealthy = { ...running, health: "unhealthy" as const, reason: "unhealthy: exit code 1" };
    const status = deriveStatus(readModel(files({ web: unhealthy, db: { rev: 1, state: "waiting", restarts: 0, reason: "needs a daemon" } })));
    expect(status.alerts.map((a) => a.id)).toEqual([`service/web/2/m1/unhealthy/${T}`]);
  });

  it("coord status shows the services, uptime at the reader's clock; coord status <machine> its own", () => {
    const status = deriveStatus(readModel(files({ web: running, db: failed })));
    const now = new Date("2026-01-01T02:00:00.000Z");
    const text = statusText(status, now);
    expect(text).toMatch(/SERVICE\s+REV\s+MACHINE\s+STATE\s+PID\s+RESTARTS\s+UP/);
    expect(text).toMatch(/web\s+2\s+m1\s+running \(healthy\)\s+42\s+1\s+2 h/);
    expect(text).toContain("db on m1: killed by SIGKILL; restarted 3 times");
    expect(machineText("m1", status, now)).toMatch(/db\s+1\s+m1\s+failed/);
  });
});
