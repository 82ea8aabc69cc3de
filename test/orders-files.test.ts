// Orders from several files: ORDERS.json plus each machine's delegated
// coordination/orders/<name>.json, checked one by one and as a union; env
// values marked secret; the text edits of `coord order --human`; and the
// machine's local copy of its delegated orders.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cancelOrder, includesChanges, insertOrder, orderIndex } from "../src/core/orders/orders-text.js";
import { formatProblem, parseOrders, parseOrderSources } from "../src/core/orders/orders.js";
import { delegatedOrdersPath, ORDERS_DIR, readModel } from "../src/core/repo/repo.js";
import { ordersJsonSchema } from "../src/core/orders/schema.js";
import { ownOrdersFile, readDelegated, updateDelegated } from "../src/state/delegated.js";

/** A file with one order per line, starting at line 4. */
function file(...orders: string[]): string {
  return `{\n  "version": 1,\n  "orders": [\n${orders.map((o) => `    ${o}`).join(",\n")}\n  ]\n}\n`;
}

const A = "coordination/orders/izzit7.json";
const B = "coordination/orders/soda-yeti.json";
const MACHINES = ["izzit7", "soda-yeti"];

describe("parseOrderSources: the union of the order files", () => {
  it("returns every file's orders, in file order, with the file each comes from", () => {
    const r = parseOrderSources(
      [
        { file: "ORDERS.json", text: file(`{ "id": "build", "to": "izzit7", "run": "make" }`) },
        { file: A, text: file(`{ "id": "test", "to": "soda-yeti", "run": "make test", "after": ["build"] }`, `{ "id": "lint", "to": "ALL", "run": "make lint" }`) },
      ],
      { machines: MACHINES },
    );
    expect(r.problems).toEqual([]);
    expect(r.orders?.orders.map((o) => o.id)).toEqual(["build", "test", "lint"]);
    expect(r.orders?.orders[1]).toMatchObject({ after: ["build"], rev: 1, env: {} });
    expect(r.origin).toEqual({ build: "ORDERS.json", test: A, lint: A });
  });

  it("an id used in two files is a problem at the second, naming the first file and line", () => {
    const r = parseOrderSources([
      { file: "ORDERS.json", text: file(`{ "id": "x", "to": "izzit7", "run": "a" }`, `{ "id": "build", "to": "izzit7", "run": "make" }`) },
      { file: A, text: file(`{ "id": "build", "to": "soda-yeti", "run": "make" }`) },
    ]);
    expect(r.orders).toBeUndefined();
    expect(r.problems).toEqual([{ file: A, line: 4, path: "orders[0].id", message: 'order id "build" is already used in ORDERS.json at line 5; give each order its own id' }]);
    expect(r.origin.build).toBe("ORDERS.json");
  });

  it("after must name an order of some file; a cycle across files is reported once, where it closes", () => {
    const unknown = parseOrderSources([
      { file: "ORDERS.json", text: file(`{ "id": "a", "to": "izzit7", "run": "x" }`) },
      { file: A, text: file(`{ "id": "b", "to": "izzit7", "run": "x", "after": ["a", "nope"] }`) },
    ]);
    expect(unknown.problems.map(formatProblem)).toEqual([`${A}:4 orders[0].after[1]: order "b" field after: there is no order "nope"; fix the id or remove it`]);

    const cycle = parseOrderSources([
      { file: "ORDERS.json", text: file(`{ "id": "a", "to": "izzit7", "run": "x", "after": ["b"] }`) },
      { file: A, text: file(`{ "id": "b", "to": "izzit7", "run": "x", "after": ["a"] }`) },
    ]);
    expect(cycle.orders).toBeUndefined();
    expect(cycle.problems).toHaveLength(1);
    expect(cycle.problems[0]!.file).toBe(A);
    expect(cycle.problems[0]!.message).toMatch(/^order "b" field after: .*cycle, b → a → b/);
  });

  it("checks machine names in every file", () => {
    const r = parseOrderSources(
      [
        { file: "ORDERS.json", text: file() },
        { file: B, text: file(`{ "id": "t", "to": ["izzit7", "ghost"], "run": "x" }`) },
      ],
      { machines: MACHINES },
    );
    expect(r.problems.map(formatProblem)).toEqual([
      `${B}:4 orders[0].to[1]: order "t" field to[1]: no machine named "ghost" is registered (registered: izzit7, soda-yeti); fix the name or set up that machine first`,
    ]);
  });

  it("a problem in any file means no orders at all; problems come by file, then line", () => {
    const r = parseOrderSources([
      { file: "ORDERS.json", text: file(`{ "id": "a", "to": "izzit7", "run": "x", "timeout": "soon" }`) },
      { file: A, text: `{ "version": 1, "orders": [ }` },
      { file: B, text: file(`{ "id": "b", "to": "izzit7", "run": "x" }`, `{ "id": "c", "to": "izzit7" }`) },
    ]);
    expect(r.orders).toBeUndefined();
    expect(r.problems.map((p) => [p.file, p.line])).toEqual([
      ["ORDERS.json", 4],
      [A, 1],
      [B, 5],
    ]);
    expect(r.problems[1]!.message).toMatch(new RegExp(`^${A} is not valid JSON at line 1`));
    // The files that parse still count for the union: "b" is known.
    expect(r.origin).toMatchObject({ a: "ORDERS.json", b: B, c: B });
  });

  it("parseOrders still reads one file on its own", () => {
    const r = parseOrders(file(`{ "id": "a", "to": "izzit7", "run": "x" }`, `{ "id": "a", "to": "izzit7", "run": "y" }`));
    expect(r.problems.map(formatProblem)).toEqual(['ORDERS.json:5 orders[1].id: order id "a" is already used at line 4; give each order its own id']);
    expect(parseOrders(file(`{ "id": "a", "to": "izzit7", "run": "x" }`), { file: A }).orders?.orders).toHaveLength(1);
  });
});

describe("env values marked secret", () => {
  it("keeps env as name → value and lists the secret names", () => {
    const r = parseOrders(
      file(
        `{ "id": "a", "to": "izzit7", "run": "x", "env": { "PLAIN": "1", "TOKEN": { "value": "s3cr3t-value", "secret": true }, "SHOWN": { "value": "v" }, "OFF": { "value": "o", "secret": false } } }`,
      ),
    );
    expect(r.problems).toEqual([]);
    const order = r.orders!.orders[0]!;
    expect(order.env).toEqual({ PLAIN: "1", TOKEN: "s3cr3t-value", SHOWN: "v", OFF: "o" });
    expect(order.secrets).toEqual(["TOKEN"]);
  });

  it("has no secrets field when nothing is secret", () => {
    const order = parseOrders(file(`{ "id": "a", "to": "izzit7", "run": "x", "env": { "A": "1" } }`)).orders!.orders[0]!;
    expect(order).not.toHaveProperty("secrets");
  });

  it("says what is wrong inside an env object", () => {
    const r = parseOrders(
      file(
        `{ "id": "a", "to": "izzit7", "run": "x", "env": { "A": { "secret": true } } }`,
        `{ "id": "b", "to": "izzit7", "run": "x", "env": { "B": { "value": "v", "secret": "yes" } } }`,
        `{ "id": "c", "to": "izzit7", "run": "x", "env": { "C": { "value": "v", "secrt": true } } }`,
        `{ "id": "d", "to": "izzit7", "run": "x", "env": { "D": 3 } }`,
        `{ "id": "e", "to": "izzit7", "run": "x", "env": { "E": { "secret": "not a name" } } }`,
        `{ "id": "f", "to": "izzit7", "run": "x", "env": { "F": { "secret": 3 } } }`,
        `{ "id": "g", "to": "izzit7", "run": "x", "env": { "G": { "secret": "g-token", "vaule": "x" } } }`,
      ),
    );
    expect(r.problems.map(formatProblem)).toEqual([
      'ORDERS.json:4 orders[0].env.A.value: order "a" field env.A is missing field "value"; write {"secret": "<name>"} for a secret each machine holds (coord secret set <name>), or {"value": "…"}',
      'ORDERS.json:5 orders[1].env.B.secret: order "b" field env.B.secret must be true or false next to "value", not "yes"; to name a secret each machine holds, write only {"secret": "yes"}',
      'ORDERS.json:6 orders[2].env.C.secrt: order "c" field env.C has an unknown field "secrt"; rename it to "secret" or remove it',
      'ORDERS.json:7 orders[3].env.D: order "d" field env.D must be a string, not 3',
      'ORDERS.json:8 orders[4].env.E.secret: order "e" field env.E.secret: "not a name" is not a secret name; use letters, digits, ".", "_" and "-" (up to 128, starting with a letter or digit)',
      'ORDERS.json:9 orders[5].env.F.secret: order "f" field env.F.secret must be true or false, or the name of a secret (a string), not 3',
      'ORDERS.json:10 orders[6].env.G.vaule: order "g" field env.G has an unknown field "vaule"; rename it to "value" or remove it',
    ]);
  });

  it("a secret named for the machines' stores becomes secretRefs, with no value in env", () => {
    const r = parseOrders(file(`{ "id": "a", "to": "izzit7", "run": "x", "env": { "PLAIN": "1", "TOKEN": { "secret": "deploy-token" } } }`));
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    const order = r.orders!.orders[0]!;
    expect(order.env).toEqual({ PLAIN: "1" });
    expect({ ...order.secretRefs }).toEqual({ TOKEN: "deploy-token" });
    expect(Object.getPrototypeOf(order.secretRefs)).toBe(null);
    expect(order).not.toHaveProperty("secrets");
  });

  it("the JSON Schema allows a string, a value marked secret or a secret's name", () => {
    // biome-ignore lint/suspicious/noExplicitAny: a JSON schema, read by path
    const schema = ordersJsonSchema() as any;
    const env = schema.properties.orders.items.properties.env;
    const forms = env.additionalProperties.anyOf;
    expect(forms[0]).toEqual({ type: "string" });
    expect(forms[1]).toMatchObject({ type: "object", additionalProperties: false, required: ["value"] });
    expect(Object.keys(forms[1].properties)).toEqual(["secret", "value"]);
    expect(forms[2]).toMatchObject({ type: "object", additionalProperties: false, required: ["secret"], properties: { secret: { type: "string" } } });
  });
});

describe("readModel: delegated order files", () => {
  const orders = (list: unknown[]) => JSON.stringify({ version: 1, orders: list }, null, 2) + "\n";

  it("reads ORDERS.json plus coordination/orders/<machine>.json; other names there are ignored", () => {
    expect(ORDERS_DIR).toBe("coordination/orders");
    expect(delegatedOrdersPath("izzit7")).toBe(A);
    const files = new Map([
      ["ORDERS.json", orders([{ id: "a", to: "ALL", run: "x" }])],
      [A, orders([{ id: "b", to: "ALL", run: "y" }])],
      ["coordination/orders/ALL.json", orders([{ id: "c", to: "ALL", run: "z" }])],
      ["coordination/orders/notes.txt", "hello"],
    ]);
    const model = readModel(files);
    expect(model.ordersProblems).toEqual([]);
    expect(model.orders?.orders.map((o) => o.id)).toEqual(["a", "b"]);
    expect(model.ordersOrigin).toEqual({ a: "ORDERS.json", b: A });
    expect(model.fileProblems.map((p) => p.file).sort()).toEqual(["coordination/orders/ALL.json", "coordination/orders/notes.txt"]);
    for (const p of model.fileProblems) expect(p.message).toMatch(/^ignored: /);
  });

  it("a broken delegated file stops every order", () => {
    const model = readModel(
      new Map([
        ["ORDERS.json", orders([{ id: "a", to: "ALL", run: "x" }])],
        [A, "{"],
      ]),
    );
    expect(model.orders).toBeUndefined();
    expect(model.ordersProblems.map((p) => p.file)).toEqual([A]);
  });
});

describe("ORDERS.json text edits", () => {
  const order = { id: "new", to: ["izzit7", "soda-yeti"], run: "echo hi" };

  it("appends an order after the last one in the file's own indentation, changing nothing else", () => {
    const text = `{\n    "version": 1,\n    "orders": [\n        { "id": "a", "to": "izzit7", "run": "x" },\n        { "id": "b", "to": "izzit7", "run": "y" }\n    ]\n}\n`;
    const next = insertOrder(text, order)!;
    const cut = text.indexOf(`"y" }`) + 5;
    expect(next.slice(0, cut)).toBe(text.slice(0, cut));
    expect(next.slice(-"\n    ]\n}\n".length)).toBe("\n    ]\n}\n");
    expect(next.slice(cut, -"\n    ]\n}\n".length)).toBe(
      `,\n        {\n            "id": "new",\n            "to": [\n                "izzit7",\n                "soda-yeti"\n            ],\n            "run": "echo hi"\n        }`,
    );
    expect(JSON.parse(next).orders.map((o: { id: string }) => o.id)).toEqual(["a", "b", "new"]);
  });

  it("fills an empty list, keeps tabs and CRLF, and stays on one line in a one-line list", () => {
    expect(insertOrder(`{ "version": 1, "orders": [] }\n`, { id: "n", to: "m", run: "r" })).toBe(
      `{ "version": 1, "orders": [\n  {\n    "id": "n",\n    "to": "m",\n    "run": "r"\n  }\n] }\n`,
    );
    const tabs = `{\r\n\t"version": 1,\r\n\t"orders": [\r\n\t\t{"id": "a", "to": "m", "run": "x"}\r\n\t]\r\n}\r\n`;
    expect(insertOrder(tabs, { id: "n", to: "m" })).toBe(
      `{\r\n\t"version": 1,\r\n\t"orders": [\r\n\t\t{"id": "a", "to": "m", "run": "x"},\r\n\t\t{\r\n\t\t\t"id": "n",\r\n\t\t\t"to": "m"\r\n\t\t}\r\n\t]\r\n}\r\n`,
    );
    expect(insertOrder(`{"version": 1, "orders": [{"id": "a"}]}`, { id: "n" })).toBe(`{"version": 1, "orders": [{"id": "a"}, {"id":"n"}]}`);
    expect(insertOrder(`{"version": 1}`, { id: "n" })).toBeUndefined();
  });

  it("cancels an order in place: a new last field in its style, or the existing field set", () => {
    const text = `{\n  "version": 1,\n  "orders": [\n    { "id": "a", "to": "m", "run": "x" },\n    {\n      "id": "b",\n      "run": "y"\n    },\n    { "id": "c", "run": "z", "cancelled": false }\n  ]\n}\n`;
    expect(orderIndex(text, "b")).toBe(1);
    expect(orderIndex(text, "zz")).toBeUndefined();
    expect(cancelOrder(text, 0)).toBe(text.replace(`"run": "x" }`, `"run": "x", "cancelled": true }`));
    expect(cancelOrder(text, 1)).toBe(text.replace(`"run": "y"\n`, `"run": "y",\n      "cancelled": true\n`));
    expect(cancelOrder(text, 2)).toBe(text.replace(`"cancelled": false`, `"cancelled": true`));
  });
});

describe("delegated orders (local state)", () => {
  it("is nothing until the machine delegates; then the published bytes are 2-space JSON with a newline", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "coord-delegated-"));
    expect(await ownOrdersFile(stateDir, "izzit7")).toBeUndefined();
    expect(await readDelegated(stateDir)).toEqual({ version: 1, orders: [] });
    await updateDelegated(stateDir, (d) => void d.orders.push({ id: "a", to: "soda-yeti", run: "x" }));
    const own = await ownOrdersFile(stateDir, "izzit7");
    expect(own).toEqual({ path: A, content: `{\n  "version": 1,\n  "orders": [\n    {\n      "id": "a",\n      "to": "soda-yeti",\n      "run": "x"\n    }\n  ]\n}\n` });
    expect(parseOrders(own && "content" in own ? own.content : "", { file: A }).problems).toEqual([]);
    // Kept sealed (the seal is never published).
    expect(JSON.parse(await readFile(join(stateDir, "orders.json"), "utf8")).seal).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["another order added by hand", (kept: { orders: object[] }) => ({ ...kept, orders: [...kept.orders, { id: "b", to: "x", run: "y" }] })],
    ["the seal taken off", (kept: { orders: object[] }) => ({ version: 1, orders: kept.orders })],
    ["an order changed", (kept: { orders: object[] }) => ({ ...kept, orders: [{ id: "a", to: "soda-yeti", run: "rm -rf ~" }] })],
  ])("a file coord did not seal (%s) is not published, and the sync is told why", async (_what, forge) => {
    const stateDir = await mkdtemp(join(tmpdir(), "coord-delegated-"));
    await updateDelegated(stateDir, (d) => void d.orders.push({ id: "a", to: "soda-yeti", run: "x" }));
    const path = join(stateDir, "orders.json");
    await writeFile(path, JSON.stringify(forge(JSON.parse(await readFile(path, "utf8")))));
    expect(await ownOrdersFile(stateDir, "izzit7")).toEqual({ problem: expect.stringMatching(/were not written by coord on this machine \(their seal does not hold/) });
    await expect(readDelegated(stateDir)).rejects.toThrow(/were not written by coord on this machine/);
  });

  it("changes nothing when the change throws, and loses nothing under concurrent changes", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "coord-delegated-"));
    await expect(
      updateDelegated(stateDir, (d) => {
        d.orders.push({ id: "x" });
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    expect(await ownOrdersFile(stateDir, "m")).toBeUndefined();
    await Promise.all(Array.from({ length: 10 }, (_, i) => updateDelegated(stateDir, (d) => void d.orders.push({ id: `o${i}` }))));
    expect((await readDelegated(stateDir)).orders.map((o) => o.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `o${i}`).sort());
  });
});

describe("includesChanges: a person's edit that already has the remote's change", () => {
  const file = (orders: object[], extra: object = {}) => JSON.stringify({ version: 1, ...extra, orders }, null, 2) + "\n";
  const a = { id: "a", to: "m1", run: "make a" };
  const b = { id: "b", to: "m1", run: "make b" };
  const base = file([a, b]);

  it("holds when each order they added, removed or changed is so in mine, whatever else mine changed", () => {
    const theirs = file([{ ...a, rev: 2 }, b, { id: "c", to: "m1", run: "c" }]);
    expect(includesChanges(base, theirs, file([{ ...a, rev: 2, run: "make a2" }, b, { id: "c", to: "m1", run: "c" }, { id: "d", to: "m1", run: "d" }]))).toBe(true);
    expect(includesChanges(base, file([a]), file([{ ...a, run: "mine" }]))).toBe(true);
    expect(includesChanges(base, file([a, b], { $schema: "x" }), file([a], { $schema: "x" }))).toBe(true);
    expect(includesChanges(base, base, file([]))).toBe(true);
  });

  it("fails when mine misses one of their changes", () => {
    expect(includesChanges(base, file([{ ...a, rev: 2 }, b]), file([{ ...a, run: "make a2" }, b]))).toBe(false); // their rev
    expect(includesChanges(base, file([a]), file([a, b]))).toBe(false); // they removed b
    expect(includesChanges(base, file([a, b, { id: "c", to: "m1", run: "c" }]), file([a, b]))).toBe(false); // they added c
    expect(includesChanges(base, file([a, b], { $schema: "x" }), file([a, b]))).toBe(false);
    expect(includesChanges(base, file([{ ...a, cancelled: true }, b]), file([a]))).toBe(false);
    expect(includesChanges(base, file([a]), "[1]")).toBe(false); // not an ORDERS.json at all
  });
});
