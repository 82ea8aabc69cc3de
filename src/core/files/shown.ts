// What a person is shown of text that came from elsewhere (a message, an
// agent's request, a name, a line of output): every character they could not
// see, or that would change what they see, written as a \u escape. One rule for
// the terminal, the page (coord ui), STATUS.md and the machine files.

/**
 * The characters shown escaped: control characters but tab and newline (C0, DEL, C1); format characters (Cf: the
 * bidi embeddings, overrides and isolates U+202A–202E and U+2066–2069, the marks U+200E/200F and U+061C, the
 * zero-width U+200B–200D, U+2060, U+FEFF, the soft hyphen, the tags U+E0000–E007F …); the line and paragraph
 * separators U+2028/2029; the rest of what Unicode says a renderer may draw as nothing (Default_Ignorable_Code_Point:
 * the Hangul fillers, the variation selectors …); private-use, unassigned and lone surrogate code points (no glyph a
 * reader can trust).
 */
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}]/gu;

/** An emoji's presentation selector (U+FE0E text, U+FE0F emoji) is kept after a pictograph and before a keycap mark: it only picks the glyph. */
const PRESENTATION = /^[\uFE0E\uFE0F]$/;
const PICTOGRAPH = /\p{Extended_Pictographic}$/u;

/** Each UTF-16 unit of `c` as \uXXXX: an astral character as its two surrogates, so JSON reads the escaped text back as the same string. */
const escaped = (c: string): string => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");

/**
 * `text` as a person may be shown it: CRLF as LF, and every character of HIDDEN as a \u escape (tab and newline
 * kept; everything else kept as it is). Idempotent. Messages are stored so (coord send), and everything shown from
 * another machine goes through it again, since a machine's files need not have been written by coord. A JSON text put
 * through it is still JSON of the same value (the escapes land inside its strings).
 */
export function sanitizeText(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(HIDDEN, (c: string, at: number, all: string) => {
    if (PRESENTATION.test(c) && (PICTOGRAPH.test(all.slice(Math.max(0, at - 2), at)) || all[at + 1] === "\u20e3")) return c;
    return escaped(c);
  });
}

/** Whether `text` holds a character of HIDDEN: one a person could not see, or that would change what they see. */
export function hasHidden(text: string): boolean {
  HIDDEN.lastIndex = 0;
  const found = HIDDEN.test(text);
  HIDDEN.lastIndex = 0;
  return found;
}

/**
 * A blank that is not a space but looks like one (no-break and typographic spaces, U+2800 the Braille blank): shown
 * as it is in prose, but in a path or a pattern it makes two different strings read alike.
 */
const LOOKS_BLANK = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/u;

/** Whether `text` holds a blank that only looks like a space (LOOKS_BLANK). */
export function hasLookalikeBlank(text: string): boolean {
  return LOOKS_BLANK.test(text);
}

/** `text` on one line as it may be shown: every line break (CRLF, CR, LF, VT, FF, NEL, U+2028, U+2029) a space, then sanitizeText. */
export function shownLine(text: string): string {
  return sanitizeText(text.replace(LINE_BREAKS, " "));
}

/** Every line break a reader (or a model) may take as one: CRLF, LF, CR, VT, FF, NEL, U+2028, U+2029. */
export const LINE_BREAKS = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/g;

/** `value` with sanitizeText applied to every string in it (object keys kept: they are names, checked where read). */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === "string") return sanitizeText(value) as T;
  if (Array.isArray(value)) return value.map(sanitizeDeep) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(value) === null ? null : Object.prototype);
    for (const [k, v] of Object.entries(value)) out[k] = sanitizeDeep(v);
    return out as T;
  }
  return value;
}
