// coord ui end to end on real git: a hub and three checkouts as machines, the
// page served from one of them. Over plain HTTP: who is refused (no token, a
// foreign Host or Origin), a port in use, a clean stop. In Debian's Chromium
// (playwright-core): the machines appear, a stopped machine turns offline
// live, a message from the chat tab reaches the other machine, and an order
// added on the page runs there.
import { rename, rm } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { connect, createServer, type Server } from "node:net";
import type { Browser, Page } from "playwright-core";
import { chromiumSuite, launchChromium, openPhonePage } from "./browser.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { startUi, type UiServer } from "../src/actions/ui.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliExec, cliProcess, type Fleet, hubStatus, makeFleet, setConfig, waitFor } from "./helpers.js";

const NAMES = ["izzit7", "soda-yeti", "mule-3"];
let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

/** The page served from izzit7's checkout, fetching every 300 ms; closed after the test. */
async function serve(): Promise<UiServer> {
  const ui = await startUi({ dir: dirOf("izzit7"), port: 0, everyMs: 300 });
  stops.push(() => ui.close());
  return ui;
}

/** One HTTP request with the headers as given (Host and Origin included): status, headers and body. */
function http(
  port: number,
  path: string,
  opts: { method?: string; host?: string; origin?: string; body?: string; type?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: opts.host ?? `127.0.0.1:${port}` };
    if (opts.origin) headers.origin = opts.origin;
    if (opts.body !== undefined) headers["content-type"] = opts.type ?? "application/json";
    const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers, timeout: 20_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${path} in 20 s`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("coord ui over HTTP", () => {
  it("refuses a request without the token, with a wrong token, a foreign Host or a foreign Origin (403); serves the page's own", async () => {
    fleet = await makeFleet(NAMES);
    const ui = await serve();
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    const t = `token=${ui.token}`;
    const own = { origin: `http://127.0.0.1:${ui.port}` };

    for (const path of ["/", "/events", "/api/snapshot", "/api/chat?a=izzit7&b=soda-yeti"]) {
      expect((await http(ui.port, path)).status, path).toBe(403);
      expect((await http(ui.port, `${path}${path.includes("?") ? "&" : "?"}token=${ui.token.slice(1)}`)).status, path).toBe(403);
    }
    const rebound = await http(ui.port, `/api/snapshot?${t}`, { host: `evil.example:${ui.port}` });
    expect(rebound).toMatchObject({ status: 403, text: expect.stringContaining("answers only to Host") });
    expect(rebound.text).not.toContain("izzit7");

    // The page: its script and style inline, allowed by a nonce and nothing else.
    const page = await http(ui.port, `/?${t}`);
    expect(page.status).toBe(200);
    const csp = String(page.headers["content-security-policy"]);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(page.text).toContain(`<script nonce="${nonce}">`);
    expect(page.text).not.toMatch(/\{\{|\/\*SCRIPT\*\/|\/\*STYLE\*\//);
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    expect((await http(ui.port, `/?${t}`, { host: `localhost:${ui.port}` })).status).toBe(200);

    const snapshot = JSON.parse((await http(ui.port, `/api/snapshot?${t}`)).text);
    expect(snapshot.machines.map((m: { name: string }) => m.name)).toEqual(["izzit7", "mule-3", "soda-yeti"]);
    expect(snapshot.local).toBe("izzit7");

    // A change: only from the page's own origin, as JSON.
    const body = JSON.stringify({ to: "soda-yeti", text: "hello" });
    expect((await http(ui.port, `/api/send?${t}`, { method: "POST", body })).status).toBe(403);
    expect((await http(ui.port, `/api/send?${t}`, { method: "POST", body, origin: "http://evil.example" })).status).toBe(403);
    expect((await http(ui.port, `/api/send?${t}`, { method: "POST", body, origin: `http://localhost:${ui.port}` })).status).toBe(403);
    expect((await http(ui.port, `/api/send?${t}`, { method: "POST", body, ...own, type: "text/plain" })).status).toBe(415);
    const refused = await http(ui.port, `/api/send?${t}`, { method: "POST", body: JSON.stringify({ to: "nobody", text: "x" }), ...own });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error).toMatch(/no machine "nobody" is registered/);
    const sent = await http(ui.port, `/api/send?${t}`, { method: "POST", body, ...own });
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.text)).toEqual({ id: "izzit7/soda-yeti/1", published: true });
    const chat = JSON.parse((await http(ui.port, `/api/chat?a=soda-yeti&b=izzit7&${t}`)).text);
    expect(chat.messages).toEqual([expect.objectContaining({ id: "izzit7/soda-yeti/1", text: "hello", receipt: "waiting" })]);
  });

  it("a machine the page shows that izzit7's last sync did not verify (it registered since): the page syncs first, and the send goes (found in attack)", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const ui = await serve();
    const own = { origin: `http://127.0.0.1:${ui.port}` };
    expect((await cli("init", join(fleet.root, "mule-3"), "--name", "mule-3", "--remote", fleet.remote)).code).toBe(0);
    await ui.refresh();
    expect(ui.snapshot().machines.map((m) => m.name)).toContain("mule-3");
    const sent = await http(ui.port, `/api/send?token=${ui.token}`, { method: "POST", body: JSON.stringify({ to: "mule-3", text: "welcome" }), ...own });
    expect(sent.status, sent.text).toBe(200);
    expect(JSON.parse(sent.text)).toEqual({ id: "izzit7/mule-3/1", published: true });
    // No sync of this coord wrote the fleet it checks names against (an upgrade; the file removed): the same.
    await rm(join(dirOf("izzit7"), ".git", "coord", "known-fleet.json"));
    const again = await http(ui.port, `/api/send?token=${ui.token}`, { method: "POST", body: JSON.stringify({ to: "soda-yeti", text: "hello" }), ...own });
    expect(again.status, again.text).toBe(200);
  });

  it("when the remote is gone, the page keeps the last fetched fleet and says it is not current; back, it is current again", async () => {
    fleet = await makeFleet(NAMES);
    const ui = await serve();
    expect(ui.snapshot().stale).toBeUndefined();
    await rename(fleet.hubPath, `${fleet.hubPath}.gone`);
    await ui.refresh();
    expect(ui.snapshot().stale).toMatch(/showing the fleet as of the last fetch/);
    expect(ui.snapshot().machines).toHaveLength(3);
    await rename(`${fleet.hubPath}.gone`, fleet.hubPath);
    await ui.refresh();
    expect(ui.snapshot().stale).toBeUndefined();
  });

  it("a port in use is one sentence and exit code 1, no stack", async () => {
    fleet = await makeFleet(["izzit7"]);
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    stops.push(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    const r = await cliExec(["ui", "--dir", dirOf("izzit7"), "--port", String(port)]);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toBe(`coord: port ${port} on 127.0.0.1 is in use; stop what uses it, or give another port with --port`);
    expect(r.out).toBe("");
  });

  it("prints its URL, serves until SIGTERM, then stops cleanly and frees the port", async () => {
    fleet = await makeFleet(["izzit7"]);
    const child = cliProcess(["ui", "--dir", dirOf("izzit7"), "--port", "0", "--every", "1s"]);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    stops.push(async () => {
      child.kill("SIGKILL");
      await exited;
    });
    const url = await waitFor(async () => /coord ui: open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+) \(Ctrl-C stops it\)/.exec(out)?.[1], 20_000, "the URL line");
    const { port } = new URL(url);
    const snapshot = await http(Number(port), `/api/snapshot?token=${new URL(url).searchParams.get("token")}`);
    expect(snapshot.status).toBe(200);
    child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000))]);
    expect(code).toBe(0);
    expect(out).toContain("coord ui: stopped");
    expect(out).not.toMatch(/\n\s+at /);
    const refused = await new Promise((resolve) => {
      const s = connect(Number(port), "127.0.0.1", () => {
        s.end();
        resolve("connected");
      });
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("refuses --port and --every it cannot use", async () => {
    const bad = await cliExec(["ui", "--port", "70000"]);
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining("--port must be 65535 or less") });
    const every = await cliExec(["ui", "--every", "soon"]);
    expect(every).toMatchObject({ code: 2, err: expect.stringContaining('--every "soon" is not a duration') });
  });
});

chromiumSuite("coord ui in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The page in a phone-width window; every wait on it is bounded (10 s by default). */
  const open = (ui: UiServer): Promise<Page> => openPhonePage(browser, ui.url, (stop) => stops.push(stop));
  const presenceOf = (page: Page, name: string) => page.locator(`#machines [data-machine="${name}"]`).getAttribute("data-presence");

  it("shows the three machines of the fleet, online, and the local one marked", async () => {
    fleet = await makeFleet(NAMES);
    const page = await open(await serve());
    const cards = page.locator("#machines [data-machine]");
    await expect.poll(() => cards.count(), { timeout: 10_000 }).toBe(3);
    expect(await cards.evaluateAll((els) => els.map((e) => [e.getAttribute("data-machine"), e.getAttribute("data-presence")]))).toEqual([
      ["izzit7", "online"],
      ["mule-3", "online"],
      ["soda-yeti", "online"],
    ]);
    expect(await page.locator('#machines [data-machine="izzit7"]').textContent()).toContain("this machine");
    expect(await page.locator("#stats").textContent()).toContain("3 machines: 3 online · 0 stale · 0 offline");
    // Readable at phone width: nothing wider than the window but the orders table, which scrolls in its own box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it("a machine stopped for longer than its window turns offline on the open page, without a reload", async () => {
    fleet = await makeFleet(NAMES);
    await setConfig(dirOf("mule-3"), { heartbeat: 3 }); // offline 9 s after its last sync
    // A shorter heartbeat goes out with the next one that is due (3 s after the last): then the page counts by it.
    await new Promise((r) => setTimeout(r, 3100));
    await sync({ dir: dirOf("mule-3") });
    const page = await open(await serve());
    await page.locator('#machines [data-machine="mule-3"]').waitFor();
    expect(await presenceOf(page, "mule-3")).not.toBe("offline");
    await page.locator('#machines [data-machine="mule-3"][data-presence="offline"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('#machines [data-machine="mule-3"]').textContent()).toMatch(/last seen \d+ s ago \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(await presenceOf(page, "izzit7")).toBe("online");
    expect(await presenceOf(page, "soda-yeti")).toBe("online");
    expect(await page.locator("#stats").textContent()).toContain("1 offline");
  });

  it("a message sent from the chat tab arrives on the other machine after a sync, as text", async () => {
    fleet = await makeFleet(NAMES);
    const page = await open(await serve());
    await page.getByRole("tab", { name: "Chat" }).click();
    await expect.poll(() => page.locator("#chat-a").inputValue(), { timeout: 10_000 }).toBe("izzit7");
    await page.locator("#chat-b").selectOption("soda-yeti");
    const text = 'build is green <img src=x onerror="document.title=1"> & done';
    await page.locator("#chat-text").fill(text);
    await page.locator("#chat-send").click();
    const shown = page.locator('#chat-log [data-id="izzit7/soda-yeti/1"] .text');
    await shown.waitFor();
    expect(await shown.textContent()).toBe(text);
    expect(await page.locator("#chat-log img").count()).toBe(0);

    const delivered = await sync({ dir: dirOf("soda-yeti") });
    expect(delivered.delivered).toEqual(["izzit7/soda-yeti/1"]);
    expect((await inbox({ dir: dirOf("soda-yeti") })).messages).toEqual([expect.objectContaining({ id: "izzit7/soda-yeti/1", from: "izzit7", text })]);
    // The receipt comes back to the page with the next fetch.
    await page.locator('#chat-log [data-id="izzit7/soda-yeti/1"]', { hasText: "received" }).waitFor({ timeout: 15_000 });
  });

  it("an order added on the page is published at once and runs on its target's next sync", async () => {
    fleet = await makeFleet(NAMES);
    const page = await open(await serve());
    await page.getByRole("tab", { name: "New order" }).click();
    await page.locator("#order-to").fill("soda-yeti");
    await page.locator("#order-run").fill("echo ran from the page on $COORD_MACHINE");
    await page.locator("#order-id").fill("from-page");
    await page.locator("#order-add").click();
    await page.locator("#order-note", { hasText: "added order from-page" }).waitFor({ timeout: 30_000 });
    expect(await page.locator("#order-note").textContent()).toBe("added order from-page to coordination/orders/izzit7.json, published");

    const ran = await sync({ dir: dirOf("soda-yeti") });
    expect(ran.ran).toEqual([expect.objectContaining({ id: "from-page", state: "completed" })]);
    expect((await hubStatus(fleet)).orders["from-page"]).toMatchObject({ state: "completed" });

    // The page follows: the order completed in the matrix, and its output in its detail.
    await page.getByRole("tab", { name: "Fleet" }).click();
    await page.locator('#matrix tr[data-order="from-page"] td[data-machine="soda-yeti"]', { hasText: "completed" }).waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "from-page" }).click();
    await page.locator("#detail-reports pre", { hasText: "ran from the page on soda-yeti" }).waitFor();
    await page.locator("#detail-history li", { hasText: "added in coordination/orders/izzit7.json" }).waitFor();
  });
});
