// A planned key change's notice (state/key-notice.ts), with keys made by ssh-keygen: it holds only for the machine,
// the new key and the old key it names; anything else is an unplanned change.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { keyNoticeHolds, signKeyNotice } from "../src/state/key-notice.js";
import { hasSshKeygen, sshKey, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

const haveSshKeygen = await hasSshKeygen();
const pub = async (path: string) => (await readFile(`${path}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");

describe.skipIf(!haveSshKeygen)("a key change's notice", () => {
  it("holds for the machine and the key it names, signed by the key pinned; not for another machine, key or signer", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir();
    const [oldKey, newKey, thief] = [await sshKey(dir, "old"), await sshKey(dir, "new"), await sshKey(dir, "thief")];
    const [oldPub, newPub, thiefPub] = [await pub(oldKey), await pub(newKey), await pub(thief)];
    const notice = await signKeyNotice(oldKey, "soda-yeti", oldPub, newPub);
    expect(notice).toMatch(/^-----BEGIN SSH SIGNATURE-----/);
    expect(await keyNoticeHolds("soda-yeti", oldPub, newPub, notice)).toBe(true);
    expect(await keyNoticeHolds("izzit7", oldPub, newPub, notice)).toBe(false); // another machine's name
    expect(await keyNoticeHolds("soda-yeti", oldPub, thiefPub, notice)).toBe(false); // another new key
    expect(await keyNoticeHolds("soda-yeti", thiefPub, newPub, notice)).toBe(false); // pinned is not the signer
    const forged = await signKeyNotice(thief, "soda-yeti", oldPub, thiefPub);
    expect(await keyNoticeHolds("soda-yeti", oldPub, thiefPub, forged)).toBe(false); // signed by the thief's own key
    expect(await keyNoticeHolds("soda-yeti", oldPub, newPub, "not a signature")).toBe(false);
  });
});
