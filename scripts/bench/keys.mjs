// Issue 31, row 14: what machine keys cost a sync. Two fleets of 6 on a server of one's own, one as `coord init`
// makes them (keys, verification on: the default), one without (`--no-key`, `coord trust machines off`). In each
// round, 5 machines run an order each and publish (signed, with keys: the signer's sync), then the sixth syncs and
// reads their 5 new files (verified against their pinned keys, with keys: the reader's sync). Medians of both,
// keys ÷ no keys. Keys are made and checked in process: ssh-keygen is not needed.
import { dur, fixture, fleet, inTurns, median, OWN_SERVER, ordersText, personCommit, ratio, say, size, spread, syncOk, times } from "./lib.mjs";

const NAMES = ["k1", "k2", "k3", "k4", "k5", "k6"];
const [READER, ...SIGNERS] = NAMES;

async function keyedFleet(label, keys) {
  const f = fixture(label);
  const fl = await fleet(f, NAMES, keys ? {} : { init: ["--no-key"] });
  if (!keys) for (const name of NAMES) await f.mustCoord(["trust", "machines", "off", "--dir", fl.dirs[name]]);
  // Each machine publishes once (its key, with keys), then each reads the others (and pins their keys).
  for (const name of NAMES) await syncOk(f, fl.dirs[name]);
  for (const name of NAMES) await syncOk(f, fl.dirs[name]);
  return { f, ...fl, orders: [] };
}

/** One round on fleet `k`: an order for each signer, their syncs (timed), then the reader's (timed). */
async function round(k, i, signerTimes, readerTimes) {
  for (const name of SIGNERS) k.orders.push({ id: `r${i}-${name}`, to: name, run: "true" });
  await personCommit(k.f, k.person, { "ORDERS.json": ordersText(k.orders, OWN_SERVER) }, `round ${i}`);
  for (const name of SIGNERS) {
    const r = await syncOk(k.f, k.dirs[name]);
    if (!r.json.ran.some((t) => t.id === `r${i}-${name}` && t.state === "completed")) throw new Error(`${name} did not run r${i}-${name}`);
    signerTimes.push(r.ms);
  }
  const r = await syncOk(k.f, k.dirs[READER]);
  if ((r.json.refused ?? []).length) throw new Error(`the reader refused: ${JSON.stringify(r.json.refused)}`);
  readerTimes.push(r.ms);
}

const WHAT = "machine keys: a sync that runs a task and signs its commit; a sync that reads 5 machines' new files and verifies them (fleet of 6)";

export async function keysCost() {
  say("two fleets of 6, one with machine keys");
  const plain = await keyedFleet("keys-off", false);
  const keyed = await keyedFleet("keys-on", true);
  try {
    const times_ = { plain: { signer: [], reader: [] }, keyed: { signer: [], reader: [] } };
    const rounds = size(5, 1);
    for (let i = 0; i < rounds; i++) {
      say(`round ${i + 1}/${rounds}`);
      const steps = [() => round(plain, i, times_.plain.signer, times_.plain.reader), () => round(keyed, i, times_.keyed.signer, times_.keyed.reader)];
      for (const step of inTurns(i, steps)) await step();
    }
    const pinned = (await keyed.f.mustCoord(["trust", "status", "--dir", keyed.dirs[READER]])).out.split("\n").filter((l) => /^\s+pinned /.test(l)).length;
    const [s0, s1, r0, r1] = [median(times_.plain.signer), median(times_.keyed.signer), median(times_.plain.reader), median(times_.keyed.reader)];
    return {
      n: "14",
      what: WHAT,
      coord: `signs ${dur(s1)}; verifies 5 ${dur(r1)}`,
      base: `no keys: ${dur(s0)}; ${dur(r0)}`,
      ratio: `${times(ratio(s1, s0))}; ${times(ratio(r1, r0))}`,
      goal: "measured (issue 31: the cost said in docs/performance.md)",
      met: pinned === SIGNERS.length,
      notes: `signing syncs: keys ${spread(times_.keyed.signer)}, none ${spread(times_.plain.signer)}; reading syncs: keys ${spread(times_.keyed.reader)}, none ${spread(times_.plain.reader)}; the reader pinned ${pinned} keys`,
    };
  } finally {
    await plain.f.cleanup();
    await keyed.f.cleanup();
  }
}
