/**
 * Fitting an answer within a platform's size limit. Sizes are measured on the serialized answer (the
 * JSON text as sent, escapes included, in UTF-8 bytes), because that is what the platform counts.
 */

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value));
}

/** The first `length` UTF-16 units of a text, one fewer when that would split a surrogate pair. */
function prefix(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/**
 * The longest beginning of `text` (followed by `marker` when cut) for which `fits` holds: the text
 * itself when it fits, else `marker` alone when nothing does. A binary search, so a 4 MiB text costs
 * about 22 serializations.
 */
export function cutToFit(text: string, marker: string, fits: (candidate: string) => boolean): string {
  if (fits(text)) return text;
  let lo = 0;
  let hi = text.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(prefix(text, mid) + marker)) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? marker : prefix(text, lo) + marker;
}
