// coord ui's page: lays out the snapshots the server pushes (/events) and
// sends what the person gives (a message, an order). Everything from the
// repository goes in as text (textContent), never as HTML.
"use strict";
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const url = (path, params = {}) => `${path}?${new URLSearchParams({ ...params, token })}`;
  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    return e;
  }
  const stateBadge = (state) => el("span", { class: `state s-${state}` }, state.replace("_", " "));
  const utc = (iso) => (iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "");

  async function call(method, path, params, body) {
    const res = await fetch(url(path, params), {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
    if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
    return data;
  }

  // ------------------------------------------------------------ tabs
  const tabs = ["fleet", "chat", "new"];
  function show(name) {
    for (const t of tabs) {
      $(t).hidden = t !== name;
      $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
    }
    if (name === "chat") loadChat();
  }
  for (const t of tabs) $(`tab-${t}`).addEventListener("click", () => show(t));

  // ------------------------------------------------------- snapshots
  let snap;
  let openOrder;

  function render(s) {
    const first = !snap;
    const changed = !snap || snap.commit !== s.commit;
    snap = s;
    $("meta").textContent = `${s.local ? `this machine: ${s.local} · ` : ""}commit ${s.commit.slice(0, 8)} · as of ${utc(s.now)}`;
    $("emergency").hidden = !s.emergency;
    $("emergency").textContent = s.emergency ? `Emergency stop: ${s.emergency}. Every machine stops its tasks and starts nothing until it is removed from ORDERS.json.` : "";
    $("stale").hidden = !s.stale;
    $("stale").textContent = s.stale ? `Not current: ${s.stale}` : "";
    renderStats(s);
    renderList("alerts", s.alerts.map((a) => el("li", { class: `alert k-${a.kind}` }, el("b", {}, a.kind), " ", a.text)));
    renderList("errors", s.errors.map((e) => el("li", {}, e)));
    renderMachines(s);
    renderList("services", (s.services ?? []).map((v) => el("li", { class: `service s-${v.state}` }, el("b", {}, v.id), ` on ${v.machine}: ${v.state}${v.health ? ` (${v.health})` : ""}${v.restarts ? ` · ${v.restarts} restarts` : ""}${v.reason ? ` · ${v.reason}` : ""}`)));
    renderList("reservations", (s.reservations ?? []).map((r) => el("li", {}, el("b", {}, r.machine), `${r.shared ? " (shared)" : ""}: ${r.paths} until ${r.untilText}${r.reason ? ` · ${r.reason}` : ""}`)));
    renderMatrix(s);
    renderPickers(s);
    if (openOrder && changed && !first) loadOrder(openOrder);
    // Each snapshot: a running turn's step comes with a new commit, its "since" with a new minute.
    if (!$("chat").hidden) loadChat();
  }

  function renderStats(s) {
    const m = s.stats.machines;
    const orders = Object.entries(s.stats.orders);
    $("stats").replaceChildren(
      el("span", { class: "stat" }, el("b", {}, String(m.online + m.stale + m.offline)), " machines: ", el("span", { class: "p-online" }, `${m.online} online`), " · ", el("span", { class: "p-stale" }, `${m.stale} stale`), " · ", el("span", { class: "p-offline" }, `${m.offline} offline`)),
      el("span", { class: "stat" }, el("b", {}, String(orders.reduce((n, [, c]) => n + c, 0))), " orders", orders.length ? ": " : "", ...orders.map(([state, n], i) => [i ? " · " : "", el("span", { class: `t-${state}` }, `${n} ${state.replace("_", " ")}`)])),
      el("span", { class: `stat${s.stats.alerts ? " hot" : ""}` }, el("b", {}, String(s.stats.alerts)), s.stats.alerts === 1 ? " alert" : " alerts"),
    );
  }

  function renderList(id, items) {
    $(id).hidden = items.length === 0;
    $(id).querySelector("ul").replaceChildren(...items);
  }

  function renderMachines(s) {
    $("machines").replaceChildren(
      ...s.machines.map((m) =>
        el(
          "article",
          { class: `card machine p-${m.presence}`, "data-machine": m.name, "data-presence": m.presence },
          el("div", { class: "card-head" }, el("span", { class: "dot", "aria-hidden": "true" }), el("b", {}, m.name), m.local ? el("span", { class: "tag" }, "this machine") : "", el("span", { class: "presence" }, m.presence)),
          el("div", { class: "muted" }, `${m.state} · last seen ${m.seen}`),
          el("div", { class: "muted small" }, `heartbeat ${m.heartbeat}${m.messages.waiting + m.messages.unacked ? ` · messages ${m.messages.waiting} waiting, ${m.messages.unacked} unread` : ""}`),
          m.running.length ? el("div", { class: "small" }, "running ", m.running.join(", ")) : "",
          m.onCall
            ? el(
                "div",
                { class: "small oncall-line" },
                `on call: ${m.onCall.agent} answers ${m.onCall.from}${m.onCall.answersLocal === false ? " (not this machine)" : ""}`,
                m.onCall.turns ? ` · ${m.onCall.turns} turn${m.onCall.turns === 1 ? "" : "s"} running` : "",
                m.onCall.spent ? ` · ${m.onCall.spent}` : "",
              )
            : "",
          m.health ? el("div", { class: "small err" }, m.health) : "",
          m.stateReason ? el("div", { class: "small err" }, m.stateReason) : "",
        ),
      ),
    );
  }

  function renderMatrix(s) {
    const names = s.machines.map((m) => m.name);
    // Machines only a report knows (ANY orders taken by a machine that has no file any more) get a column too.
    for (const o of s.orders) for (const n of Object.keys(o.machines)) if (!names.includes(n)) names.push(n);
    $("no-orders").hidden = s.orders.length > 0;
    $("matrix").hidden = s.orders.length === 0;
    $("matrix").querySelector("thead").replaceChildren(el("tr", {}, el("th", {}, "order"), el("th", {}, "state"), ...names.map((n) => el("th", { class: "m" }, n))));
    $("matrix")
      .querySelector("tbody")
      .replaceChildren(
        ...s.orders.map((o) =>
          el(
            "tr",
            { "data-order": o.id, class: o.id === openOrder ? "open" : "" },
            el(
              "th",
              { scope: "row" },
              el("button", { type: "button", class: "link", onclick: () => loadOrder(o.id), title: `to ${o.to}` }, o.id),
              o.why ? el("div", { class: "small why" }, o.why) : "",
            ),
            el("td", {}, stateBadge(o.state)),
            ...names.map((n) => {
              const c = o.machines[n];
              return el("td", { class: "m", "data-machine": n, title: c?.note || "" }, c ? stateBadge(c.state) : el("span", { class: "muted" }, "·"));
            }),
          ),
        ),
      );
  }

  function renderPickers(s) {
    const names = s.machines.map((m) => m.name);
    const keep = (select, fallback) => {
      const was = select.value;
      select.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
      select.value = names.includes(was) ? was : fallback;
    };
    const a = s.local && names.includes(s.local) ? s.local : names[0];
    keep($("chat-a"), a);
    keep($("chat-b"), names.find((n) => n !== $("chat-a").value) || "");
    $("order-targets").replaceChildren(...[...names, "ALL", "ANY"].map((n) => el("option", { value: n })));
    const canAct = Boolean(s.local);
    $("order-add").disabled = !canAct;
    if (!canAct) $("order-note").textContent = "This checkout is not a machine's: run coord ui in a machine's checkout to add orders.";
    chatSendable();
  }

  // ----------------------------------------------------------- order
  async function loadOrder(id) {
    openOrder = id;
    for (const tr of document.querySelectorAll("#matrix tr[data-order]")) tr.classList.toggle("open", tr.dataset.order === id);
    $("detail").hidden = false;
    $("detail-title").textContent = id;
    try {
      const d = await call("GET", "/api/order", { id });
      if (openOrder !== id) return;
      const def = d.definition;
      const every = def && def.every ? ` · every ${def.every}${def.next ? `, next ${utc(def.next)}` : ""}` : "";
      $("detail-def").textContent = def ? `${def.what} · to ${def.to} · rev ${def.rev}${every} · ${def.priority} · in ${def.file}` : "Not defined in the orders files at this commit.";
      $("detail-reports").replaceChildren(
        ...d.reports.map((r) =>
          el(
            "div",
            { class: "report", "data-machine": r.machine },
            el("div", {}, el("b", {}, r.machine), " ", stateBadge(r.state), r.slot ? ` slot ${utc(r.slot)} ·` : "", ` attempt ${r.attempts}`, r.exitCode !== null ? ` · exit ${r.exitCode}` : "", r.finishedAt ? ` · ${utc(r.finishedAt)}` : ""),
            r.reason ? el("div", { class: "small err" }, r.reason) : "",
            r.output ? el("pre", { class: "output" }, r.output) : "",
          ),
        ),
      );
      if (d.reports.length === 0) $("detail-reports").replaceChildren(el("p", { class: "muted" }, "No machine has reported on it yet."));
      const history = d.history || [];
      $("detail-history").replaceChildren(
        ...history.map((e) => el("li", e.refused ? { class: "err" } : {}, el("span", { class: "muted" }, `${utc(e.at)} ${e.who}: `), e.what)),
        ...(d.historyError ? [el("li", { class: "err" }, d.historyError)] : []),
      );
    } catch (e) {
      $("detail-reports").replaceChildren(el("p", { class: "err" }, String(e.message || e)));
    }
  }
  $("detail-close").addEventListener("click", () => {
    openOrder = undefined;
    $("detail").hidden = true;
    for (const tr of document.querySelectorAll("#matrix tr.open")) tr.classList.remove("open");
  });

  // ------------------------------------------------------------ chat
  /** The last chat loaded: where a message goes by default (a thread to reply in), the text that stops a turn. */
  let chat;
  /** The person chose a new conversation over the thread the chat would reply in. */
  let newConversation = false;
  /** Threads this page sent a /stop to, while their turn still runs. */
  const stopping = new Set();
  /** Requests this page sent a decision to (id → the reply's text), while the chat still shows them waiting. */
  const deciding = new Map();
  /** The reasons typed for a denial (request id → text), kept across the chat's redraws. */
  const reasons = new Map();
  /** The requests whose whole input was opened here ("show all"), kept across the chat's redraws. */
  const opened = new Set();
  /** What the last send or stop said (kept until the pair changes). */
  let chatSaid = "";
  const say = (text) => {
    chatSaid = text;
    $("chat-note").textContent = text;
  };

  function chatPeer() {
    const [a, b] = [$("chat-a").value, $("chat-b").value];
    if (!snap?.local || a === b) return undefined;
    if (a === snap.local) return b;
    if (b === snap.local) return a;
    return undefined;
  }
  function chatSendable() {
    const peer = chatPeer();
    $("chat-send").disabled = !peer;
    $("chat-note").textContent = chatSaid
      ? chatSaid
      : peer
        ? `Sent as ${snap.local} to ${peer}, published at once; ${peer} receives it at its next sync.`
        : snap?.local
          ? `Pick ${snap.local} as one side to send as this machine.`
          : "This checkout is not a machine's: messages cannot be sent from here.";
  }
  /** The thread a message from the send box replies in, or undefined: a new conversation. */
  const replyThread = () => (chat?.reply && !newConversation && chatPeer() ? chat.reply.thread : undefined);
  function renderReply() {
    const thread = chat?.reply && chatPeer() ? chat.reply.thread : undefined;
    $("chat-reply").hidden = !thread;
    if (!thread) return;
    $("chat-reply").dataset.thread = newConversation ? "" : thread;
    $("chat-reply-text").textContent = newConversation
      ? "New conversation: the agent starts a new session."
      : `Replying to ${thread} (this conversation's first message): the agent goes on in the same session.`;
    $("chat-reply-toggle").textContent = newConversation ? `Continue ${thread} instead` : "Start a new conversation instead";
  }
  $("chat-reply-toggle").addEventListener("click", () => {
    newConversation = !newConversation;
    renderReply();
  });

  function renderOnCall(view) {
    $("chat-oncall").hidden = view.onCall.length === 0;
    $("chat-oncall").replaceChildren(...view.onCall.map((o) => el("p", { class: o.answers ? "yes" : "no", "data-machine": o.machine }, o.text)));
    const turns = view.onCall.flatMap((o) => o.turns.map((t) => ({ ...t, machine: o.machine, agent: o.agent })));
    for (const thread of stopping) if (!turns.some((t) => t.thread === thread)) stopping.delete(thread);
    $("chat-turns").hidden = turns.length === 0;
    $("chat-turns").replaceChildren(
      ...turns.map((t) =>
        el(
          "li",
          { class: "turn", "data-thread": t.thread, "data-machine": t.machine },
          el(
            "div",
            { class: "what" },
            el("div", { class: "small" }, el("b", {}, `${t.machine}'s ${t.agent}`), ` is working on ${t.thread}${t.about ? ` (“${t.about}”)` : ""} since ${t.sinceText}`),
            el("div", { class: "step" }, t.step ? `latest step: ${t.step}` : "no step yet"),
          ),
          t.stoppable
            ? el(
                "button",
                { type: "button", class: "stop", disabled: stopping.has(t.thread), title: `sends ${view.stopText} as a reply in ${t.thread}`, onclick: (ev) => stopTurn(t, ev.currentTarget) },
                stopping.has(t.thread) ? "Stopping…" : "Stop",
              )
            : "",
        ),
      ),
    );
  }

  /**
   * A request for a permission (approvals from afar): what became of it, and while it waits for this machine, the
   * buttons that answer it: Approve, Deny (with an optional reason), Approve always <tool>.
   */
  function requestBlock(m) {
    const r = m.request;
    const sent = deciding.get(m.id);
    if (r.state !== "waiting") deciding.delete(m.id);
    const state = el("p", { class: "request-state" }, sent && r.state === "waiting" ? `answered ${sent}; waiting for ${m.from} to take it` : r.text);
    // What an approval allows: exactly this input (its sha256), shown whole (what nobody can see written as \u escapes).
    // A request whose text showed part of it is approved only once the whole was opened here ("show all").
    const whole = r.whole ?? r.input;
    const mustOpen = r.cut === true;
    const input =
      whole !== undefined
        ? el(
            "details",
            {
              class: "request-input",
              ontoggle: (ev) => {
                if (!ev.currentTarget.open) return;
                opened.add(m.id);
                for (const b of ev.currentTarget.parentNode.querySelectorAll("button.approve, button.always")) b.disabled = false;
                const note = ev.currentTarget.parentNode.querySelector(".must-open");
                if (note) note.remove();
              },
            },
            el("summary", {}, `${mustOpen ? "show all: " : ""}the whole input (${[...whole].length} characters; sha256 ${(r.digest || "").slice(0, 12)}…)`),
            el("pre", {}, whole),
          )
        : "";
    if (input && opened.has(m.id)) input.open = true;
    const locked = mustOpen && !opened.has(m.id);
    if (!r.canAnswer || !r.replies || (sent && r.state === "waiting")) return el("div", { class: "request" }, state, input);
    const reasonId = `reason-${m.id.replace(/[^A-Za-z0-9_-]/g, "-")}`;
    const reason = el("input", {
      id: reasonId,
      class: "reason",
      type: "text",
      maxlength: "300",
      "data-reason-for": m.id,
      oninput: (ev) => reasons.set(m.id, ev.currentTarget.value),
      onkeydown: (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          denyWith(ev);
        }
      },
    });
    reason.value = reasons.get(m.id) || "";
    // An approval names the digest of the input the page showed whole (the server refuses one of a cut request without it).
    const answer = (text) => (ev) => decide(m, text, ev.currentTarget.closest(".decide"), r.digest);
    function denyWith(ev) {
      const why = reason.value.replace(/\s+/g, " ").trim();
      decide(m, why ? `${r.replies.deny} ${why}` : r.replies.deny, ev.currentTarget.closest(".decide"));
    }
    return el(
      "div",
      { class: "request" },
      state,
      input,
      el(
        "div",
        { class: "decide", role: "group", "aria-label": `Answer ${m.from}'s request to use ${r.tool}` },
        locked ? el("p", { class: "must-open" }, "Its text shows part of the input: open “show all” above to read all of it before you approve.") : "",
        el("button", { type: "button", class: "approve", disabled: locked, title: `replies ${r.replies.approve} to ${m.id}`, onclick: answer(r.replies.approve) }, "Approve"),
        r.replies.always
          ? el(
              "button",
              { type: "button", class: "always", disabled: locked, title: `replies ${r.replies.always} to ${m.id}: no more asking for ${r.tool} in this conversation`, onclick: answer(r.replies.always) },
              `Approve always ${r.tool}`,
            )
          : "",
        el("span", { class: "deny-with" }, el("label", { for: reasonId }, "reason (optional)"), reason, el("button", { type: "button", class: "deny", title: `replies ${r.replies.deny} (and the reason) to ${m.id}`, onclick: denyWith }, "Deny")),
      ),
    );
  }

  /** Sends a decision (/approve, /deny <reason>, /approve always <tool>) as a reply to request `m`. */
  async function decide(m, text, group, digest) {
    deciding.set(m.id, text);
    for (const b of group?.querySelectorAll("button, input") ?? []) b.disabled = true;
    try {
      const r = await call("POST", "/api/send", {}, { to: m.from, text, replyTo: m.id, ...(digest ? { digest } : {}) });
      reasons.delete(m.id);
      say(`sent ${text} in reply to ${m.id} (${r.id})${r.published ? "" : "; it goes out with the next sync"}`);
    } catch (e) {
      deciding.delete(m.id);
      say(String(e.message || e));
    }
    await loadChat();
  }

  async function stopTurn(t, button) {
    stopping.add(t.thread);
    button.disabled = true;
    button.textContent = "Stopping…";
    try {
      const r = await call("POST", "/api/send", {}, { to: t.machine, text: chat.stopText, replyTo: t.thread });
      say(`sent ${chat.stopText} in ${t.thread} (${r.id})${r.published ? "" : "; it goes out with the next sync"}`);
      await loadChat();
    } catch (e) {
      stopping.delete(t.thread);
      button.disabled = false;
      button.textContent = "Stop";
      say(String(e.message || e));
    }
  }

  async function loadChat() {
    chatSendable();
    const [a, b] = [$("chat-a").value, $("chat-b").value];
    if (!a || !b) return;
    try {
      const view = await call("GET", "/api/chat", { a, b });
      if ($("chat-a").value !== a || $("chat-b").value !== b) return;
      chat = view;
      const { messages } = view;
      const receipt = { waiting: "not received yet", received: "received", acked: "read" };
      // A reason being typed keeps its focus and caret across the redraw.
      const typing = document.activeElement?.dataset?.reasonFor;
      const caret = typing ? [document.activeElement.selectionStart, document.activeElement.selectionEnd] : undefined;
      $("chat-log").replaceChildren(
        ...messages.map((m) =>
          el(
            "li",
            {
              class: `msg ${m.from === a ? "right" : "left"} pr-${m.priority}${m.agent?.answer ? " answer" : ""}${m.agent?.outcome ? ` o-${m.agent.outcome}` : ""}${m.request ? ` request r-${m.request.state}` : ""}`,
              "data-id": m.id,
              "data-thread": m.thread,
              "data-outcome": m.agent?.outcome,
              "data-request-state": m.request?.state,
            },
            el("div", { class: "small muted" }, `${m.from} · ${m.when}${m.priority !== "normal" ? ` · ${m.priority}` : ""}${m.replyTo ? ` · reply to ${m.replyTo}` : ""}`),
            m.agent ? el("div", { class: "small agent" }, m.agent.outcome ? el("span", { class: "outcome" }, m.agent.outcome) : "", m.agent.line) : "",
            el("div", { class: "text" }, m.text),
            m.request ? requestBlock(m) : "",
            el("div", { class: "small muted" }, receipt[m.receipt]),
          ),
        ),
      );
      const input = typing ? [...$("chat-log").querySelectorAll("input[data-reason-for]")].find((i) => i.dataset.reasonFor === typing) : undefined;
      if (input && !input.disabled) {
        input.focus();
        input.setSelectionRange(...caret);
      }
      if (messages.length === 0) $("chat-log").replaceChildren(el("li", { class: "muted" }, `No live messages between ${a} and ${b}.`));
      renderOnCall(view);
    } catch (e) {
      chat = undefined;
      $("chat-log").replaceChildren(el("li", { class: "err" }, String(e.message || e)));
      renderOnCall({ onCall: [] });
    }
    renderReply();
  }
  const pairChanged = () => {
    newConversation = false;
    chat = undefined;
    chatSaid = "";
    loadChat();
  };
  $("chat-a").addEventListener("change", pairChanged);
  $("chat-b").addEventListener("change", pairChanged);
  $("chat-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const to = chatPeer();
    const text = $("chat-text").value;
    if (!to || !text.trim()) return;
    const replyTo = replyThread();
    $("chat-send").disabled = true;
    try {
      const r = await call("POST", "/api/send", {}, { to, text, priority: $("chat-priority").value, ...(replyTo ? { replyTo } : {}) });
      $("chat-text").value = "";
      newConversation = false;
      say(`sent ${r.id}${replyTo ? ` in ${replyTo}` : ""}${r.published ? "" : "; it goes out with the next sync"}`);
      await loadChat();
    } catch (e) {
      say(String(e.message || e));
    } finally {
      $("chat-send").disabled = !chatPeer();
    }
  });

  // ------------------------------------------------------- new order
  $("order-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("order-add").disabled = true;
    $("order-note").textContent = "adding…";
    try {
      const r = await call("POST", "/api/order", {}, {
        to: $("order-to").value.trim(),
        run: $("order-run").value,
        id: $("order-id").value.trim(),
        priority: $("order-priority").value,
        timeout: $("order-timeout").value.trim(),
      });
      const where = r.published ? ", published" : r.refused ? `, not published: ${r.refused}` : "; it is published at the next sync";
      $("order-note").textContent = `added order ${r.id} to ${r.file}${where}${r.warnings?.length ? ` (${r.warnings.join("; ")})` : ""}`;
      $("order-id").value = "";
    } catch (e) {
      $("order-note").textContent = String(e.message || e);
    } finally {
      $("order-add").disabled = !snap?.local;
    }
  });

  // ---------------------------------------------------------- events
  const source = new EventSource(url("/events"));
  source.addEventListener("snapshot", (ev) => {
    document.body.classList.remove("offline");
    render(JSON.parse(ev.data));
  });
  source.addEventListener("error", () => {
    document.body.classList.add("offline");
    if (snap) $("meta").textContent = `reconnecting… (last: commit ${snap.commit.slice(0, 8)} as of ${utc(snap.now)})`;
  });
})();
