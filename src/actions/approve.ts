// What coord approve shows of a request, and what approving it takes: a person approves only what they were shown
// (core/oncall/approvals.ts requestView). A request whose text showed part of its input (a long one: its head and
// tail) is approved only with its digest, which `coord approve <id> --show` prints with the whole input.
import { approvalRefusal, DIGEST_SHOWN, type RequestView, requestView } from "../core/oncall/approvals.js";
import { BROADCAST, parseMessageId } from "../core/messages/messages.js";
import { own } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { readMailbox } from "../state/mailbox.js";
import type { Machine } from "../sync/sync.js";
import { openMachine } from "../sync/sync.js";

/** A request as this machine holds it: received (its inbox), or made by its own agent (its outbox); undefined when neither. */
export async function requestHere(m: Machine, id: string): Promise<(RequestView & { id: string; tool: string; from: string }) | undefined> {
  const p = parseMessageId(id);
  if (!p) return undefined;
  const data = await readMailbox(m.stateDir);
  // A request to ALL is none an agent on call makes (it asks in its thread), but one with the mark is held to the same
  // rule: approved only for what it showed (found in attack: a turned machine's broadcast went without its digest).
  const got =
    p.from === m.config.name
      ? own(data.outbox, p.to)?.messages.find((x) => x.seq === p.seq)
      : data.inbox.find((x) => x.id === id && (x.to === m.config.name || x.to === BROADCAST));
  const tool = got?.agent?.request;
  if (!got || tool === undefined) return undefined;
  return { id, tool, from: p.from, ...requestView(got.text, tool, got.agent?.input, got.agent?.digest) };
}

/** coord approve <id> --show: the request's whole input, escaped, and its digest. */
export async function showRequest(dir: string, id: string): Promise<RequestView & { id: string; tool: string; from: string }> {
  if (!parseMessageId(id)) throw new CoordError(`"${id}" is not a request id; requests are messages, like soda-yeti/izzit7/5 (coord inbox shows them)`, EXIT.USAGE);
  const r = await requestHere(await openMachine(dir), id);
  if (!r) throw new CoordError(`${id} is no request for a permission this machine received or made (coord inbox shows them)`, EXIT.USAGE);
  return r;
}

/** The lines of coord approve --show. */
export function shownLines(r: RequestView & { id: string; tool: string; from: string }): string[] {
  if (r.problem) return [`request ${r.id} from ${r.from} for ${r.tool} cannot be approved: ${r.problem}`];
  if (r.whole === undefined) return [`request ${r.id} from ${r.from} for ${r.tool} carries no whole input (an older coord made it): its text is all there is (coord inbox)`];
  const short = r.digest!.slice(0, DIGEST_SHOWN);
  return [
    `request ${r.id} from ${r.from} asks to use ${r.tool}; its whole input (${Array.from(r.whole).length} characters as shown, what nobody can see written as \\u escapes):`,
    "",
    r.whole,
    "",
    `sha256 ${r.digest}`,
    `approve exactly this: coord approve ${r.id} --digest ${short}`,
  ];
}

/** Refuses (exit 2, nothing sent or decided) an approval of `id` that was not shown whole and names no digest, or names another's. */
export async function approvableHere(m: Machine, id: string, digest: string | undefined): Promise<void> {
  const r = await requestHere(m, id);
  if (!r) return;
  const why = approvalRefusal(r, digest);
  if (why === undefined) return;
  const how = r.problem
    ? "deny it: coord deny"
    : `see all of it with coord approve ${id} --show, then approve it with coord approve ${id} --digest <the ${DIGEST_SHOWN} hex digits it prints>`;
  throw new CoordError(`request ${id} is not approved: ${why}; ${how}${r.problem ? ` ${id}` : ""}; nothing was sent`, EXIT.USAGE);
}
