/** Marks where output was cut, so a student does not mistake a truncated log for the whole of it. */
export function truncationMarker(limitKiB: number): string {
  return `\n[output truncated: over the ${limitKiB} KiB limit]\n`;
}

/**
 * Cuts each piece of output to what is left of one budget of `limitKiB`, in order. A piece that lost
 * text ends with the truncation marker, and markers count against the budget too.
 */
export function budgetOutputs(pieces: Array<{ text: string; dropped: boolean }>, limitKiB: number): { kept: string[]; truncated: boolean } {
  const marker = truncationMarker(limitKiB);
  const markerBytes = Buffer.byteLength(marker);
  let left = limitKiB * 1024;
  let truncated = false;
  const kept = pieces.map(({ text, dropped }) => {
    const bytes = Buffer.byteLength(text);
    if (bytes <= left && !dropped) {
      left -= bytes;
      return text;
    }
    truncated = true;
    if (left < markerBytes) {
      left = 0;
      return "";
    }
    const room = Math.min(bytes, left - markerBytes);
    const cut = Buffer.from(text).subarray(0, room).toString("utf8").replace(/\uFFFD$/, "");
    left -= Buffer.byteLength(cut) + markerBytes;
    return cut + marker;
  });
  return { kept, truncated };
}
