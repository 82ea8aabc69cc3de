// coord ui: a local web page of the fleet, served from this checkout on
// 127.0.0.1 only. Every --every it fetches (as coord status does: a silent
// remote falls back to the last fetched commit, said on the page) and pushes a
// new snapshot to the open pages (server-sent events) when the commit, the
// minute or a machine's mark changed. A message or an order given on the page
// goes through the same journal as coord send and coord order add, as this
// checkout's machine, and is published at once; so do a reply in a thread, a
// /stop to an agent on call's running turn, and an /approve or /deny to its
// request for a permission (a reply to a message the page shows but this
// machine's mailbox has not taken yet is delivered first, by a sync that starts
// no task). Who may use it: core/status/ui-access.ts.
import { inTurn } from "../serial.js";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { own, PRIORITIES, type Priority } from "../core/types.js";
import { BROADCAST, parseMessageId } from "../core/messages/messages.js";
import { readKnownFleet, readMailbox } from "../state/mailbox.js";
import { uiRefusal } from "../core/status/ui-access.js";
import { chatView, orderDetail, snapshotKey, type UiSnapshot, uiSnapshot } from "../core/status/ui-view.js";
import { CoordError, EXIT, PushRefused } from "../errors.js";
import { describeFailure } from "../failure.js";
import { loadConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { type Machine, openMachine, syncMachine } from "../sync/sync.js";
import { template } from "../templates.js";
import { orderLog } from "./log.js";
import { publishSent, sendFrom } from "./messages.js";
import { approvableHere } from "./approve.js";
import { decisionOf } from "../core/oncall/approvals.js";
import { orderAdd } from "./order.js";
import { ADD_FIELDS, fieldValue } from "../core/orders/order-fields.js";
import { type StatusResult, status } from "./status.js";

export interface UiOptions {
  dir: string;
  /** 0: any free port. */
  port: number;
  /** Milliseconds between fetches. */
  everyMs: number;
  /** Lines for the person who started it (a failed fetch, a send). */
  log?: (line: string) => void;
  now?: () => Date;
}

export interface UiServer {
  /** http://127.0.0.1:<port>/?token=<token>: the page, for the person who started it. */
  url: string;
  port: number;
  token: string;
  /** The snapshot the pages show now. */
  snapshot(): UiSnapshot;
  /** Fetches (or not) and pushes a new snapshot when it differs. */
  refresh(fetch?: boolean): Promise<void>;
  /** Stops the timers, ends the open pages' streams, closes the server. */
  close(): Promise<void>;
}

/** The longest request body read (a message or an order). */
const MAX_BODY = 64 * 1024;

/** Seconds between keep-alive comments on an open event stream. */
const KEEPALIVE_MS = 25_000;

/** The page: templates/ui/index.html with its style and script put in (one response, so every request carries the token). */
async function loadPage(): Promise<string> {
  const [html, css, js] = await Promise.all([template("ui/index.html"), template("ui/style.css"), template("ui/app.js")]);
  return html.replace("/*STYLE*/", () => css).replace("/*SCRIPT*/", () => js);
}

/** A refusal or failure the page shows as it is. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "send the request as application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `the request is over ${MAX_BODY / 1024} KiB`);
    chunks.push(chunk as Buffer);
  }
  let data: unknown;
  try {
    data = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "the request is not JSON");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new HttpError(400, "the request is not a JSON object");
  return data as Record<string, unknown>;
}

/** A field of a request: a string, or undefined when absent or empty. */
function field(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === "") {
    if (required) throw new HttpError(400, `${name} is missing`);
    return undefined;
  }
  if (typeof v !== "string") throw new HttpError(400, `${name} must be text`);
  return v;
}

function sendJson(res: ServerResponse, code: number, data: unknown): void {
  const body = JSON.stringify(data);
  res.writeHead(code, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Headers of every answer: nothing cached, nothing framed, no referrer (the URL holds the token), nothing loaded from elsewhere. */
function securityHeaders(nonce?: string): Record<string, string> {
  const scripts = nonce ? `script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` : "";
  return {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": `default-src 'none'; ${scripts}connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}

/** Listens on 127.0.0.1:port, or says in one sentence why it cannot. */
function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (e.code === "EADDRINUSE") reject(new CoordError(`port ${port} on 127.0.0.1 is in use; stop what uses it, or give another port with --port`, EXIT.FAILURE));
      else if (e.code === "EACCES") reject(new CoordError(`port ${port} on 127.0.0.1 needs privileges this user lacks; give a port above 1023 with --port`, EXIT.USAGE));
      else reject(new CoordError(`cannot listen on 127.0.0.1:${port}: ${describeFailure(e).message}`, EXIT.FAILURE));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as { port: number }).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}

/** Whether machine `m` received or sent message `id` (sendFrom's rule for a reply; a malformed id is sendFrom's to refuse). */
async function takenHere(m: Machine, id: string): Promise<boolean> {
  const p = parseMessageId(id);
  if (!p) return true;
  const data = await readMailbox(m.stateDir);
  return data.inbox.some((x) => x.id === id) || (p.from === m.config.name && p.seq < (own(data.outbox, p.to)?.next ?? 1));
}

/** A sync that starts no task (as the publish after a send runs anyway); why it did not get through, or "". */
async function syncFirst(m: Machine): Promise<string> {
  try {
    const r = await syncMachine(m, { run: false });
    return r.skipped ? "another sync of this machine holds its lock" : "";
  } catch (e) {
    return describeFailure(e).message.replace(/[.;]?\s*$/, "");
  }
}

/**
 * The page shows what the hub has, fetched, not what this machine's mailbox took: a message to it sent since its
 * last sync (an agent's request for a permission) is on the page but not in the mailbox yet, and sendFrom takes a
 * reply only to a message the machine received or sent. A sync delivers it first; when it cannot, the page is told
 * why, and nothing is sent.
 */
async function deliverFirst(m: Machine, id: string): Promise<void> {
  const why = await syncFirst(m);
  if (await takenHere(m, id)) return;
  throw new HttpError(409, `${id} has not reached ${m.config.name}'s mailbox yet${why ? ` (${why})` : ""}; nothing was sent: try again in a moment`);
}

/** Starts the page's server; the first snapshot is read before it returns (a checkout that cannot be read fails here, in one sentence). */
export async function startUi(opts: UiOptions): Promise<UiServer> {
  const stateDir = await stateDirOf(opts.dir);
  const page = await loadPage();
  const ui = new Ui(opts, stateDir, page, (await loadConfig(stateDir))?.name);
  await ui.serve();
  try {
    await ui.refresh(true, true);
  } catch (e) {
    await ui.close();
    throw e;
  }
  ui.startTimers();
  return {
    url: `http://127.0.0.1:${ui.port}/?token=${ui.token}`,
    port: ui.port,
    token: ui.token,
    snapshot: () => ui.current!,
    refresh: (fetch = true) => ui.refresh(fetch),
    close: () => ui.close(),
  };
}

/**
 * The page's server: what its fetches, its open pages, its requests and its timers share, in one object. Its steps:
 * `serve` (listen), a first `refresh`, `startTimers`; `close` ends them.
 */
class Ui {
  /** The secret in the page's URL: every request carries it (core/status/ui-access.ts). */
  readonly token = randomBytes(24).toString("base64url");
  /** The port it listens on: the one asked for, then the one it got (0: any free port). */
  port: number;
  /** The snapshot the pages show now. */
  current: UiSnapshot | undefined;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;
  /** What the last fetch (or read) of the fleet found. */
  private last: StatusResult | undefined;
  /** The key of the snapshot last sent to the open pages: a new one is sent only when it differs. */
  private sentKey = "";
  /** The open pages' event streams. */
  private readonly streams = new Set<ServerResponse>();
  private closed = false;
  /** Git work one at a time: a fetch, a send or an order published never race each other in this checkout. */
  private readonly serial = inTurn();
  private readonly server: Server;
  /** The next fetch, the next minute's snapshot, the keep-alive comments. */
  private timer: NodeJS.Timeout | undefined;
  private minute: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  /** Why the last fetch failed (said once in the log), or "". */
  private failing = "";
  /** The machines a send synced for, each with the commit the page showed then: a sync for a name once a commit. */
  private readonly syncedFor = new Map<string, string>();

  constructor(
    private readonly opts: UiOptions,
    private readonly stateDir: string,
    private readonly page: string,
    /** This checkout's machine, when it is one (the page shows it as "you"). */
    private local: string | undefined,
  ) {
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? (() => new Date());
    this.port = opts.port;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // The answer could not be written (the page went away): nothing to tell anyone.
        if (!res.headersSent) sendJson(res, 500, { error: describeFailure(e).message });
        else res.destroy();
      });
    });
  }

  /** Listens on 127.0.0.1 (the port asked for, or any free one). */
  async serve(): Promise<void> {
    this.port = await listen(this.server, this.opts.port);
  }

  /** A new snapshot of the last fetch, sent to the open pages when it differs from the last sent (or `force`). */
  private push(force: boolean): void {
    const { last } = this;
    if (!last) return;
    this.current = uiSnapshot({ status: last.status, commit: last.commit, stale: last.stale, local: this.local, now: this.now() });
    const key = snapshotKey(this.current);
    if (!force && key === this.sentKey) return;
    this.sentKey = key;
    const event = `event: snapshot\ndata: ${JSON.stringify(this.current)}\n\n`;
    for (const res of this.streams) res.write(event);
  }

  /** Reads the fleet (fetched, or not) and pushes a new snapshot when it differs. */
  refresh(fetch = true, force = false): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      const before = this.last?.stale;
      this.last = await status({ dir: this.opts.dir, fetch, now: this.now() });
      if (this.last.stale && this.last.stale !== before) this.log(`warning: ${this.last.stale}`);
      this.push(force);
    });
  }

  /** Fetches every --every; a fetch that fails is said once in the log and the page keeps the last snapshot. At each new minute the "last seen" texts and the marks move on, with no fetch. */
  startTimers(): void {
    this.nextFetch();
    this.nextMinute();
    this.keepalive = setInterval(() => {
      for (const res of this.streams) res.write(": keep-alive\n\n");
    }, KEEPALIVE_MS);
  }

  private nextFetch(): void {
    this.timer = setTimeout(async () => {
      try {
        await this.refresh(true);
        this.failing = "";
      } catch (e) {
        const why = describeFailure(e).message;
        if (why !== this.failing) this.log(`could not read the fleet: ${why}`);
        this.failing = why;
      }
      if (!this.closed) this.nextFetch();
    }, this.opts.everyMs);
  }

  private nextMinute(): void {
    this.minute = setTimeout(
      () => {
        this.push(false);
        if (!this.closed) this.nextMinute();
      },
      60_000 - (this.now().getTime() % 60_000) + 50,
    );
  }

  /** Stops the timers, ends the open pages' streams, closes the server; what was under way ends first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.minute);
    clearInterval(this.keepalive);
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.serial(async () => {}); // what was under way ends first
  }

  /** One request: refused (core/status/ui-access.ts), or routed; a failure answers with its sentence. */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const refused = uiRefusal({ method, host: req.headers.host, origin: req.headers.origin, token: url.searchParams.get("token") }, { port: this.port, token: this.token });
    if (refused) {
      res.writeHead(403, { ...securityHeaders(), "content-type": "text/plain; charset=utf-8" });
      res.end(`refused: ${refused}\n`);
      return;
    }
    try {
      await this.route(`${method} ${url.pathname}`, url, req, res);
    } catch (e) {
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
      const f = describeFailure(e);
      return sendJson(res, f.exitCode === EXIT.USAGE ? 400 : 500, { error: f.message });
    }
  }

  /** What answers `route` (the method and the path): the page, its event stream, its reads and its two writes. */
  private async route(route: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (route) {
      case "GET /": {
        const nonce = randomBytes(16).toString("base64");
        res.writeHead(200, { ...securityHeaders(nonce), "content-type": "text/html; charset=utf-8" });
        res.end(this.page.replaceAll("{{NONCE}}", nonce));
        return;
      }
      case "GET /events":
        return this.events(res);
      case "GET /api/snapshot":
        return sendJson(res, 200, this.current);
      case "GET /api/order":
        return sendJson(res, 200, await this.order(url.searchParams.get("id") ?? ""));
      case "GET /api/chat": {
        if (!this.last) throw new HttpError(503, "no snapshot yet");
        const [a, b] = [url.searchParams.get("a") ?? "", url.searchParams.get("b") ?? ""];
        const { local } = this;
        return sendJson(res, 200, chatView({ model: this.last.model, status: this.last.status, a, b, ...(local ? { local } : {}), now: this.now() }));
      }
      case "POST /api/send":
        return sendJson(res, 200, await this.send(await readJson(req)));
      case "POST /api/order":
        return sendJson(res, 200, await this.addOrder(await readJson(req)));
      default:
        throw new HttpError(404, `nothing at ${route}`);
    }
  }

  /** An open page's event stream: the snapshot now, then each new one. */
  private events(res: ServerResponse): void {
    res.writeHead(200, { ...securityHeaders(), "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
    res.write("retry: 3000\n\n");
    if (this.current) res.write(`event: snapshot\ndata: ${JSON.stringify(this.current)}\n\n`);
    this.streams.add(res);
    res.on("close", () => this.streams.delete(res));
  }

  /** An order as the last fetch shows it, with its history. */
  private async order(id: string): Promise<unknown> {
    if (!this.last) throw new HttpError(503, "no snapshot yet");
    const detail = orderDetail(this.last.model, id);
    const history = await orderLog({ dir: this.opts.dir, id, maxCount: 200 }).catch((e: unknown) => describeFailure(e).message);
    return { ...detail, ...(typeof history === "string" ? { historyError: history } : { history }) };
  }

  /** This checkout's machine, to send and add orders as (its name read again: a coord init since shows). */
  private async machine(): Promise<Machine> {
    const config = await loadConfig(this.stateDir);
    if (!config) throw new HttpError(409, "this checkout is not a machine's (no coord init here): the page can show the fleet but not send or add orders as one");
    this.local = config.name;
    return openMachine(this.opts.dir);
  }

  /** Whether the page's last fetch has message `id`, to machine `me` (else a reply to it is sendFrom's to take or refuse). */
  private shownTo(id: string, me: string): boolean {
    const p = parseMessageId(id);
    return !!p && p.to === me && !!this.last?.model.messageFiles.some((f) => f.from === p.from && f.to === me && f.messages.some((x) => x.seq === p.seq));
  }

  /** A message (or a reply) given on the page, sent as this machine and published at once. */
  private async send(body: Record<string, unknown>): Promise<unknown> {
    const to = field(body, "to", true)!;
    const text = field(body, "text", true)!;
    const priority = field(body, "priority") ?? "normal";
    // A reply (a conversation with an agent on call goes on in its session; a /stop in a thread): sendFrom checks the id.
    const replyTo = field(body, "replyTo");
    if (!PRIORITIES.includes(priority as Priority)) throw new HttpError(400, `priority must be one of ${PRIORITIES.join(", ")}`);
    const m = await this.machine();
    const r = await this.serial(async () => {
      if (replyTo && this.shownTo(replyTo, m.config.name) && !(await takenHere(m, replyTo))) await deliverFirst(m, replyTo);
      // An approval from the page holds only for what the page showed: a request whose text showed part of its input
      // is approved with the digest of the whole, which the page sends once "show all" was opened (as coord approve).
      if (replyTo && decisionOf(text)?.behavior === "allow")
        await approvableHere(m, replyTo, field(body, "digest")).catch((e: unknown) => {
          throw new HttpError(
            400,
            describeFailure(e).message.replace(
              /see all of it with coord approve \S+ --show, then approve it with coord approve \S+ --digest <[^>]*>/,
              'open "show all" on the page, then approve',
            ),
          );
        });
      // A machine the page shows that this machine's last sync did not verify (it registered since), or no fleet from
      // a sync of this coord yet: sendFrom would refuse it, so a sync takes it in first; whether it then counts is
      // sendFrom's to say. Once for a name at a commit the page showed: a machine the sync does not believe (a
      // pusher's file) is not synced for at every request (found in attack).
      const commit = this.last?.commit ?? "";
      const shown = this.last?.model.computers.has(to) && this.syncedFor.get(to) !== commit;
      const known = await readKnownFleet(m.stateDir).catch(() => undefined);
      if (to !== BROADCAST && !known?.includes(to) && (shown || !known)) {
        this.syncedFor.set(to, commit);
        await syncFirst(m);
      }
      const sent = await sendFrom(m, { to, text, priority, ...(replyTo ? { replyTo } : {}) });
      return { ...sent, ...(await publishSent(m, "now", sent.id)) };
    });
    this.log(`sent ${r.id}${r.published?.skipped ? " (queued: another sync holds the lock; it goes out with the next sync)" : ""}`);
    await this.refresh(false, true);
    return { id: r.id, published: r.published !== undefined && !r.published.skipped };
  }

  /** An order given on the page, added as this machine's delegated one and published at once. */
  private async addOrder(body: Record<string, unknown>): Promise<unknown> {
    const to = field(body, "to", true)!;
    const run = field(body, "run", true)!;
    const m = await this.machine();
    // The page's fields read as the command line reads them (a timeout of "90" is 90 seconds).
    const fields: Record<string, unknown> = Object.create(null);
    for (const f of ADD_FIELDS.filter((f) => ["run", "id", "priority", "timeout"].includes(f.name))) {
      const value = f.name === "run" ? run : field(body, f.name);
      if (value !== undefined) fields[f.name] = fieldValue(f, value);
    }
    const change = await this.serial(() => orderAdd({ dir: this.opts.dir, to, fields, now: this.now }));
    const { published, said, refused } = await this.publishOrder(m, change.file);
    this.log(`added order ${change.id}${published ? "" : `; ${said}`}`);
    await this.refresh(false, true);
    return { id: change.id, file: change.file, published, ...(refused ? { refused } : {}), warnings: change.warnings };
  }

  /**
   * An order added, published now, as a sync that starts no task: the target sees it at its next sync. The order is
   * this machine's delegated one, on the branch coord: a hub that lets only people push main takes it all the same.
   */
  private async publishOrder(m: Machine, file: string): Promise<{ published: boolean; said: string; refused?: string }> {
    try {
      const r = await this.serial(() => syncMachine(m, { run: false }));
      return { published: !r.skipped, said: "published at the next sync" };
    } catch (e) {
      const why = describeFailure(e).message;
      if (!(e instanceof PushRefused)) return { published: false, said: `publishing it now failed (${why}); it goes out with the next sync` };
      // The hub's answer, not an outage: the next sync is refused the same way until the hub's rules change.
      const refused = `the hub refused this machine's push of its delegated orders (${why}); the order is kept in ${file} and goes out once the hub takes this machine's pushes (coord doctor says what it refuses)`;
      return { published: false, said: refused, refused };
    }
  }
}
