// Ticket keys by id, as this window has seen them (queue pages, search hits, opened tickets,
// and the audit table's `ticketKeys` lookups, which read the cache without recording a view).
// A ticket that is not in the cache shows a short id. The map is bounded: the oldest entries go
// first, and the audit table looks up again whatever it no longer finds.
import { createSignal } from "solid-js";

/** Keys remembered at most; a queue scrolled end to end does not feed this map. */
export const MAX_KEYS = 5_000;
const keys = new Map<string, string>();
const [version, setVersion] = createSignal(0);

export function rememberKeys(pairs: Iterable<{ id: string; key: string | null }>): void {
  let added = false;
  for (const { id, key } of pairs) {
    if (key && keys.get(id) !== key) {
      keys.delete(id);
      keys.set(id, key);
      added = true;
    }
  }
  for (const oldest of keys.keys()) {
    if (keys.size <= MAX_KEYS) break;
    keys.delete(oldest);
  }
  if (added) setVersion((v) => v + 1);
}

export function knownKey(id: string): string | null {
  version();
  return keys.get(id) ?? null;
}

/** The key when known, else the id's first characters. */
export function ticketKeyOf(id: string): string {
  return knownKey(id) ?? (id.length > 12 ? `${id.slice(0, 8)}…` : id);
}

/**
 * A report names a ticket by key, or (before its first sync) by its id as 32 hex digits; this
 * gives the id for the latter and null for a key (which `resolveKey` looks up).
 */
export function idFromReportName(name: string): string | null {
  if (/^[0-9a-fA-F]{32}$/.test(name)) {
    const h = name.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(name)) return name.toLowerCase();
  return null;
}
