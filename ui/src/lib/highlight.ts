import type { Highlighted } from "../backend";

export type Segment = { text: string; mark: boolean };

/**
 * Splits highlighted text into plain and marked segments. Ranges count Unicode characters
 * (code points, as Rust's `chars()`), so the text is split by code point, not UTF-16 unit.
 * Out-of-range or overlapping ranges are clamped rather than trusted.
 */
export function segments(h: Highlighted): Segment[] {
  const chars = Array.from(h.text);
  const out: Segment[] = [];
  let pos = 0;
  const sorted = [...h.ranges].sort((a, b) => a[0] - b[0]);
  for (const [rawStart, rawEnd] of sorted) {
    const start = Math.max(pos, Math.min(rawStart, chars.length));
    const end = Math.max(start, Math.min(rawEnd, chars.length));
    if (end === start) continue;
    if (start > pos) out.push({ text: chars.slice(pos, start).join(""), mark: false });
    out.push({ text: chars.slice(start, end).join(""), mark: true });
    pos = end;
  }
  if (pos < chars.length) out.push({ text: chars.slice(pos).join(""), mark: false });
  return out;
}
