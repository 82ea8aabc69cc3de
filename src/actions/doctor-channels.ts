// coord doctor's look at this machine's message channels: one a recipient
// cannot read (over the 2 MiB it reads of a channel's file) holds every later
// message back. The sync fits the channels it writes by itself
// (core/messages/fit.ts); this says which channel waits, on what, and what
// ends the wait.
import { formatBytes, someOf } from "../core/limits.js";
import { CHANNEL_LIMIT, MESSAGE_LIMIT } from "../core/messages/fit.js";
import { channelOfPath, messageId } from "../core/messages/messages.js";
import { MAILBOX_REBUILT, type MailboxSetAside, mailboxPath, readMailbox } from "../state/mailbox.js";
import { fittedChannel } from "../sync/mail.js";
import type { Machine } from "../sync/machine.js";
import { lastFetchedModel } from "../sync/trust.js";
import { READ_PATHS } from "../sync/cycle.js";
import type { Check } from "../core/setup/doctor-check.js";

const warn = (detail: string, fix: string): Check => ({ name: "messages", level: "WARN", detail, fix });

/** A warning for each channel of this machine that is jammed, or would be but for its next sync; none when all flow. */
export async function channelChecks(m: Machine, now: Date): Promise<Check[]> {
  const data = await readMailbox(m.stateDir).catch(() => undefined);
  const lost = data?.setAside ? [mailboxSetAsideCheck(mailboxPath(m.stateDir), data.setAside)] : [];
  const known = await lastFetchedModel(m, READ_PATHS).catch(() => undefined);
  if (!known) return lost;
  const { model } = known;
  const me = m.config.name;
  const checks: Check[] = lost;
  for (const [to, channel] of Object.entries(data?.outbox ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { fit } = fittedChannel(me, to, channel, model, now, m.config.messageRetention * 1000);
    const id = (seq: number) => messageId(me, to, seq);
    for (const c of fit.cut)
      checks.push(
        warn(
          `message ${id(c.seq)} is ${formatBytes(c.bytes)}, more than the ${formatBytes(MESSAGE_LIMIT)} one message may be: as it is, its channel's file would be over the ${formatBytes(CHANNEL_LIMIT)} ${to} reads and no later message would arrive`,
          "the next sync (coord sync, or the daemon's) sends a notice in its place and the messages behind it; nothing to do by hand",
        ),
      );
    if (fit.held.length)
      checks.push(
        warn(
          `the channel to ${to} is full: its live messages fill the ${formatBytes(CHANNEL_LIMIT)} ${to} reads, and ${fit.held.length} newer message${fit.held.length === 1 ? " waits" : "s wait"} behind them (${someOf(fit.held.map(id))})`,
          `they go as ${to} receives the ones before them: when ${to} syncs (coord sync there, or its daemon); the sync sends them by itself`,
        ),
      );
  }
  // Channel files on the hub a recipient cannot read: nothing of them arrives until their sender rewrites them.
  for (const p of model.fileProblems) {
    const ch = channelOfPath(p.file);
    // Too big: the reasons of core/limits.ts (tooBigBlob, unreadable) both say what "coord reads".
    if (!ch || !p.message.includes("coord reads")) continue;
    if (ch.from === me)
      checks.push(warn(`this machine's channel file ${p.file} on the hub is too big to read (${p.message})`, "the next sync (coord sync) rewrites it under the limit"));
    else if (ch.to === me || ch.to === "ALL")
      checks.push(
        warn(
          `no message from ${ch.from} arrives: its channel file ${p.file} is too big to read (${p.message})`,
          `${ch.from}'s coord rewrites it under the limit at its next sync (update coord on ${ch.from} if an older one wrote it)`,
        ),
      );
  }
  return checks;
}

/** The mailbox could not be read and was set aside; the next sync rebuilds it. */
function mailboxSetAsideCheck(path: string, lost: MailboxSetAside): Check {
  return warn(
    `${path} could not be read (${lost.problem}) and was set aside as ${lost.aside} at ${lost.at}: coord inbox shows only what came since; ${MAILBOX_REBUILT}`,
    "coord sync rebuilds it now (the daemon's next sync does too)",
  );
}
