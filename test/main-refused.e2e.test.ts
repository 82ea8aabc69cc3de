// A machine whose key may not write main (issue 29, "On real git servers"): the host keeps main for people, as
// docs/security.md recommends. What a person does from that machine's checkout says so, in the server's words,
// and how to do it instead: coord order add --human (and cancel), coord watch's push of a saved ORDERS.json.
// coord ui's order form delegates (the branch coord), so it keeps working; a hub that refuses coord too is said.
// A pre-receive hook stands in for the host's rule, with GitHub's words.
import { writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startUi } from "../src/actions/ui.js";
import { watch } from "../src/daemon/watch.js";
import { cli, type Fleet, git, makeFleet, peopleHead, protectBranches, pushOrders, waitFor } from "./helpers.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await fleet?.cleanup();
  fleet = undefined;
});

/** A fleet of one machine, a, with an order x in ORDERS.json, whose hub refuses every push of main; a's checkout has a person's git identity. */
async function mainForPeople(): Promise<Fleet> {
  fleet = await makeFleet(["a"]);
  await pushOrders(fleet, [{ id: "x", to: "a", run: "true" }]);
  expect((await cli("sync", "--dir", fleet.machines.a!, "--no-run")).code).toBe(0);
  await protectBranches(fleet.hubPath, "main");
  await git(fleet.machines.a!, "config", "user.name", "Pat Person");
  await git(fleet.machines.a!, "config", "user.email", "pat@example.com");
  return fleet;
}

const refusedMain =
  /^the hub refused this push of main \(.*GH006: Protected branch update failed for refs\/heads\/main.*\): the key or account this checkout pushes with may not write ORDERS\.json, which is how it should be on a machine, where only people may push main; /;

describe("a machine whose key may not write main", () => {
  it("coord order add --human and coord order cancel --human say the hub refused main, and how to do it from a person's clone", async () => {
    const f = await mainForPeople();
    const before = await peopleHead(f);

    const add = await cli("order", "add", "--human", "--dir", f.machines.a!, "--to", "a", "--id", "y", "--", "true");
    expect(add.code).toBe(1);
    const said = add.err.replace(/^coord: /, "");
    expect(said).toMatch(refusedMain);
    expect(said).toContain(
      `nothing was changed; add the order from a person's clone: git clone -b main ${f.hubPath} fleet, then coord order add --human --dir fleet with the same options`,
    );
    expect(said).not.toMatch(/pushed first|race/);

    const cancel = await cli("order", "cancel", "x", "--human", "--dir", f.machines.a!);
    expect(cancel.code).toBe(1);
    expect(cancel.err.replace(/^coord: /, "")).toMatch(refusedMain);
    expect(cancel.err).toContain("cancel the order from a person's clone: git clone -b main");
    expect(cancel.err).toContain("then coord order cancel x --human --dir fleet");

    expect(await peopleHead(f)).toBe(before);
  });

  it("coord watch keeps a saved ORDERS.json, says the hub refused main and how to push it from a person's clone, not to save again", async () => {
    const f = await mainForPeople();
    const before = await peopleHead(f);
    const dir = f.machines.a!;
    const lines: string[] = [];
    const edits: (Error | { kind: string })[] = [];
    const stop = new AbortController();
    const running = watch({ dir, schedule: "0 0 1 1 *", debounceMs: 100, signal: stop.signal, log: (l) => lines.push(l), onOrdersEdit: (r) => edits.push(r) });
    stops.push(async () => {
      stop.abort();
      await running;
    });
    await waitFor(async () => lines.some((l) => l.startsWith("watching ")), 15_000, "the watch to start");

    const text = `${JSON.stringify(
      {
        version: 1,
        orders: [
          { id: "x", to: "a", run: "true" },
          { id: "z", to: "a", run: "true" },
        ],
      },
      null,
      2,
    )}\n`;
    await writeFile(join(dir, "ORDERS.json"), text);
    const edit = await waitFor(async () => edits[0], 20_000, "the watch to push the saved ORDERS.json");
    expect(edit).toBeInstanceOf(Error);
    const line = lines.find((l) => l.startsWith("ORDERS.json not pushed: "))!;
    expect(line.slice("ORDERS.json not pushed: ".length)).toMatch(refusedMain);
    expect(line).toContain(`your ORDERS.json is kept as it is, not pushed; push the change from a person's clone: git clone -b main ${f.hubPath} fleet`);
    expect(line).not.toMatch(/save it again|pushed first/);
    expect(await peopleHead(f)).toBe(before);
  });

  it("coord ui's order form delegates on coord, which the hub takes; a hub that refuses coord too is said on the page", async () => {
    const f = await mainForPeople();
    const before = await peopleHead(f);
    const ui = await startUi({ dir: f.machines.a!, port: 0, everyMs: 60_000 });
    stops.push(() => ui.close());

    const added = await post(ui.port, `/api/order?token=${ui.token}`, { to: "a", run: "true", id: "from-page" });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ id: "from-page", file: "coordination/orders/a.json", published: true });
    expect(added.body.refused).toBeUndefined();
    expect(await git(f.hubPath, "show", "coord:coordination/orders/a.json")).toContain('"from-page"');
    expect(await peopleHead(f)).toBe(before);

    await protectBranches(f.hubPath, "main", "coord");
    const refused = await post(ui.port, `/api/order?token=${ui.token}`, { to: "a", run: "true", id: "from-page-2" });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ id: "from-page-2", published: false });
    expect(refused.body.refused).toMatch(
      /^the hub refused this machine's push of its delegated orders \(.*GH006: Protected branch update failed for refs\/heads\/coord.*\); the order is kept in coordination\/orders\/a\.json and goes out once the hub takes this machine's pushes/,
    );
  });
});

/** A POST of JSON to the page's server as the page itself sends it (its Host and Origin): status and parsed body. */
function post(port: number, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const origin = `http://127.0.0.1:${port}`;
    const headers = { host: `127.0.0.1:${port}`, origin, "content-type": "application/json" };
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers, timeout: 30_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} in 30 s`)));
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
