// The queue as a sparse window over the backend's keyset pages. Only pages near the visible
// rows are fetched and kept; the total from queue_count sizes the scrollbar. Pages are reached
// by cursor, so page p needs the cursor that page p-1 returned; rows of pages far from the
// window are dropped, their cursors kept.
//
// Rows live in a plain Map, not a store: a store keeps a property and a signal for every index
// ever read, so scrolling 100 000 rows would leave 100 000 of each behind. One version signal
// tells the rows on screen that the map changed; each re-reads its own index, and Solid touches
// the DOM only where a value differs.
import { batch, createSignal } from "solid-js";
import type { Backend, QueueCursor, QueueFilter, QueueRow, QueueSort } from "../backend";

export const PAGE_SIZE = 100;
/** Pages beyond the window edges whose rows are kept when the window moves. */
const KEEP_MARGIN = 2;

export type QueueModel = ReturnType<typeof createQueue>;

export function createQueue(backend: Backend, pageSize = PAGE_SIZE) {
  const [total, setTotal] = createSignal(0);
  const [ready, setReady] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const rows = new Map<number, QueueRow>();
  const [version, setVersion] = createSignal(0);
  const changed = () => setVersion((v) => v + 1);
  let filter: QueueFilter | null = null;
  let sort: QueueSort = "sla_due";
  /** cursors[p] starts page p; undefined = not known yet. */
  let cursors: Array<QueueCursor | null | undefined> = [null];
  const loaded = new Set<number>();
  const inflight = new Map<number, Promise<void>>();
  let generation = 0;
  let window: [number, number] = [0, 0];

  const pageOf = (index: number) => Math.floor(index / pageSize);

  async function fetchPage(page: number, gen: number): Promise<void> {
    if (page > 0 && cursors[page] === undefined) {
      await loadPage(page - 1, gen);
      if (gen !== generation || cursors[page] === undefined) return;
    }
    const cursor = cursors[page];
    // A null cursor after page 0 means the previous page was the last.
    if (cursor === null && page > 0) return;
    const result = await backend.queue(filter!, sort, cursor ?? null, pageSize);
    if (gen !== generation) return;
    const base = page * pageSize;
    result.rows.forEach((row, i) => rows.set(base + i, row));
    // A page that came back short: the rows after it are gone.
    for (let i = base + result.rows.length; i < base + pageSize; i++) rows.delete(i);
    changed();
    cursors[page + 1] = result.next;
    loaded.add(page);
  }

  function loadPage(page: number, gen: number): Promise<void> {
    if (loaded.has(page)) return Promise.resolve();
    let p = inflight.get(page);
    if (!p) {
      p = fetchPage(page, gen)
        .catch((e: unknown) => {
          if (gen === generation) setError(e instanceof Error ? e.message : String(e));
        })
        .finally(() => inflight.delete(page));
      inflight.set(page, p);
    }
    return p;
  }

  function evictOutside(first: number, last: number): void {
    const far = (page: number) => page < first - KEEP_MARGIN || page > last + KEEP_MARGIN;
    for (const page of loaded) if (far(page)) loaded.delete(page);
    // Every held row outside the margins goes, including rows kept over a refresh (whose pages
    // are no longer in `loaded`).
    let evicted = false;
    for (const index of rows.keys()) if (far(pageOf(index))) evicted = rows.delete(index) || evicted;
    if (evicted) changed();
  }

  /**
   * Makes rows `start..=end` available. The next page is fetched once the window is within half
   * a page of the end of what is loaded, never more than that.
   */
  async function ensure(start: number, end: number): Promise<void> {
    if (!filter) return;
    window = [start, end];
    const count = total();
    if (count === 0) return;
    const last = Math.min(count - 1, end + Math.floor(pageSize / 2));
    const first = pageOf(Math.max(0, start));
    const lastPage = pageOf(last);
    const gen = generation;
    evictOutside(first, lastPage);
    for (let page = first; page <= lastPage; page++) {
      await loadPage(page, gen);
      if (gen !== generation) return;
    }
  }

  /** Starts over for a new filter or sort. */
  async function reset(nextFilter: QueueFilter, nextSort: QueueSort): Promise<void> {
    filter = nextFilter;
    sort = nextSort;
    generation += 1;
    const gen = generation;
    cursors = [null];
    loaded.clear();
    inflight.clear();
    setError(null);
    setReady(false);
    try {
      const count = await backend.queueCount(nextFilter);
      if (gen !== generation) return;
      rows.clear();
      batch(() => {
        changed();
        setTotal(count);
      });
      window = [0, 0];
      await ensure(0, Math.min(count, 30));
    } catch (e) {
      if (gen === generation) setError(e instanceof Error ? e.message : String(e));
    } finally {
      if (gen === generation) setReady(true);
    }
  }

  /**
   * After a change notice: re-reads the count and only the pages under the visible window.
   * Rows kept from other pages stay on screen until they are scrolled to, then re-read.
   */
  async function refresh(): Promise<void> {
    if (!filter) return;
    generation += 1;
    const gen = generation;
    try {
      const count = await backend.queueCount(filter);
      if (gen !== generation) return;
      loaded.clear();
      inflight.clear();
      for (const index of rows.keys()) if (index >= count) rows.delete(index);
      batch(() => {
        changed();
        setTotal(count);
      });
      // Cursors past the window may point into rows that moved; they are re-derived on demand.
      const lastPage = pageOf(Math.max(0, Math.min(count - 1, window[1] + Math.floor(pageSize / 2))));
      cursors = cursors.slice(0, lastPage + 1);
      await ensure(window[0], window[1]);
    } catch (e) {
      if (gen === generation) setError(e instanceof Error ? e.message : String(e));
    }
  }

  return {
    total,
    ready,
    error,
    row: (index: number): QueueRow | undefined => {
      version();
      return rows.get(index);
    },
    ensure,
    reset,
    refresh,
    indexOf: (id: string): number => {
      for (const [index, row] of rows) if (row.id === id) return index;
      return -1;
    },
    /** How many rows are held (the window and its margins): for tests of eviction. */
    held: (): number => rows.size,
  };
}
