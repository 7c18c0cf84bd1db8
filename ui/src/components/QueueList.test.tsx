import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { screen } from "@solidjs/testing-library";
import { createQueue, PAGE_SIZE, type QueueModel } from "../state/queue";
import { QueueList, ROW_HEIGHT } from "./QueueList";
import { emptyFilter } from "../lib/views";
import { now, useClock } from "../lib/clock";
import { countdown } from "../lib/time";
import { deskContext, eventually, mockBackend, renderInDesk, stubViewport } from "../test/helpers";
import { recorded } from "../backend/mock";
import type { QueuePage, QueueRow } from "../backend";

/** `n` rows made from the recorded ones (distinct ids and keys), served in pages by offset cursors. */
function serve(n: number): QueueRow[] {
  const base = recorded<QueuePage>("queue.all").rows.filter((r) => r.sla_due_at !== null);
  return Array.from({ length: n }, (_, i) => ({ ...base[i % base.length]!, id: `00000000-0000-7000-8000-${String(i).padStart(12, "0")}`, key: `OP-${10000 + i}` }));
}

function pagedBackend(rows: QueueRow[]) {
  return mockBackend()
    .on("queue_count", () => rows.length)
    .on("queue", (args) => {
      const start = args.cursor ? Number(String(args.cursor).split(":")[1]) : 0;
      const page = rows.slice(start, start + Number(args.limit));
      const end = start + page.length;
      return { rows: page, next: end < rows.length ? `${String(args.sort)}:${end}` : null };
    });
}

let restoreViewport: () => void;
beforeEach(() => {
  restoreViewport = stubViewport(560);
});
afterEach(() => {
  restoreViewport();
  vi.useRealTimers();
});

function renderedIndices(): number[] {
  return screen.queryAllByTestId("queue-row").map((el) => Number(el.dataset.index));
}

async function mountQueue(tickets: number) {
  const rows = serve(tickets);
  const mock = pagedBackend(rows);
  const ctx = await deskContext(mock);
  let queue!: QueueModel;
  renderInDesk(ctx, () => {
    useClock();
    queue = createQueue(mock);
    return <QueueList queue={queue} selectedId={null} onSelect={() => undefined} emptyText="empty" />;
  });
  mock.calls.length = 0;
  await queue.reset(emptyFilter(), "sla_due");
  await eventually(() => expect(screen.getAllByTestId("queue-row")[0]?.dataset.key).toMatch(/^OP-/));
  return { mock, queue, rows, list: screen.getByTestId("queue-list") };
}

/** Rows the backend was asked for never exceed the window's pages plus one page. */
function assertPagingBound(mock: ReturnType<typeof pagedBackend>) {
  const pages = mock.callsTo("queue");
  const lastVisible = Math.max(...renderedIndices());
  const allowedPages = Math.floor(lastVisible / PAGE_SIZE) + 2;
  expect(pages.length).toBeLessThanOrEqual(allowedPages);
  for (const call of pages) expect(call.args.limit).toBe(PAGE_SIZE);
  // No page fetched twice.
  const cursors = pages.map((c) => c.args.cursor);
  expect(new Set(cursors).size).toBe(cursors.length);
}

async function scrollTo(list: HTMLElement, index: number) {
  list.scrollTop = index * ROW_HEIGHT;
  list.dispatchEvent(new Event("scroll"));
  await eventually(() => expect(renderedIndices()).toContain(index));
}

describe("queue paging", () => {
  it("loads one page for the first screen, sized by queue_count", async () => {
    const { mock, queue } = await mountQueue(1000);
    expect(queue.total()).toBe(1000);
    expect(mock.callsTo("queue_count")).toHaveLength(1);
    expect(mock.callsTo("queue")).toHaveLength(1);
    // Only the visible window (plus overscan) is in the DOM, not 1000 rows.
    expect(renderedIndices().length).toBeLessThan(30);
    assertPagingBound(mock);
  });

  it("fetches the next page only when the window nears the end of what is loaded", async () => {
    const { mock, list } = await mountQueue(1000);
    await scrollTo(list, 20);
    expect(mock.callsTo("queue")).toHaveLength(1);
    await scrollTo(list, 70);
    await eventually(() => expect(mock.callsTo("queue")).toHaveLength(2));
    expect(mock.callsTo("queue")[1]!.args.cursor).toBe("sla_due:100");
    assertPagingBound(mock);
  });

  it("jumps by following cursors, never past the window, and drops far pages", async () => {
    const { mock, list, queue } = await mountQueue(1000);
    await scrollTo(list, 520);
    await eventually(() => expect(screen.getAllByTestId("queue-row").every((r) => r.dataset.key)).toBe(true));
    assertPagingBound(mock);
    expect(queue.row(0)).toBeUndefined();
    expect(queue.row(520)?.key).toMatch(/^OP-/);
  });

  it("holds only the pages around the window while the whole queue scrolls past", async () => {
    const { list, queue } = await mountQueue(1000);
    let most = 0;
    for (let index = 0; index < 1000; index += 40) {
      await scrollTo(list, index);
      // Every row on screen is real (a ticket not yet synced has no key, so look for placeholders).
      await eventually(() => expect(list.querySelectorAll(".queue-row.placeholder")).toHaveLength(0));
      most = Math.max(most, queue.held());
    }
    // The window's page(s), the half page read ahead and two pages of margin on each side.
    expect(most).toBeLessThanOrEqual(6 * PAGE_SIZE);
    expect(queue.held()).toBeLessThanOrEqual(6 * PAGE_SIZE);
    expect(queue.row(0)).toBeUndefined();
    expect(queue.row(999)?.key).toMatch(/^OP-/);
  });

  it("shows what an empty view would hold", async () => {
    const mock = pagedBackend([]);
    const ctx = await deskContext(mock);
    let queue!: QueueModel;
    renderInDesk(ctx, () => {
      queue = createQueue(mock);
      return <QueueList queue={queue} selectedId={null} onSelect={() => undefined} emptyText="Nothing here yet" />;
    });
    await queue.reset({ ...emptyFilter(), tag: "no-such-tag" }, "updated");
    await eventually(() => expect(screen.getByText("Nothing here yet")).toBeTruthy());
  });
});

describe("SLA badges", () => {
  it("tick every second without re-rendering rows", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(Date.parse("2026-03-02T09:00:10Z"));
    const { list, queue } = await mountQueue(300);
    const row = screen.getAllByTestId("queue-row")[0]!;
    const badge = row.querySelector<HTMLElement>("[data-testid=sla-badge]")!;
    const before = badge.textContent;
    const records: MutationRecord[] = [];
    const observer = new MutationObserver((list) => records.push(...list));
    observer.observe(list, { subtree: true, childList: true, characterData: true, attributes: true });

    await vi.advanceTimersByTimeAsync(3000);
    await eventually(() => expect(records.length).toBeGreaterThan(0));
    observer.disconnect();
    // Same row element, same badge element: nothing was re-created.
    expect(screen.getAllByTestId("queue-row")[0]).toBe(row);
    expect(row.querySelector("[data-testid=sla-badge]")).toBe(badge);
    expect(badge.textContent).not.toBe(before);
    const first = queue.row(0)!;
    expect(first.sla_due_at).not.toBeNull();
    expect(badge.querySelector(".sla-text")!.textContent).toBe(countdown(first.sla_due_at, first.sla_warn_at, first.sla_paused, now()).text);
    // Only text (and the badge's state attributes) changed, and only inside badges.
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.type).not.toBe("childList");
      const el = r.target instanceof Element ? r.target : r.target.parentElement;
      expect(el?.closest("[data-testid=sla-badge]")).not.toBeNull();
    }
  });
});


describe("queue refresh", () => {
  it("re-reads only the pages under the window after a change notice", async () => {
    const { mock, list, queue } = await mountQueue(1000);
    await scrollTo(list, 520);
    await eventually(() => expect(screen.getAllByTestId("queue-row").every((r) => r.dataset.key)).toBe(true));
    const before = mock.callsTo("queue").length;
    await queue.refresh();
    const after = mock.callsTo("queue").slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThanOrEqual(2);
    for (const call of after) expect(Number(String(call.args.cursor).split(":")[1])).toBeGreaterThanOrEqual(500);
    expect(mock.callsTo("queue_count").length).toBe(2);
  });

  it("shows a changed row in place", async () => {
    const { queue, rows } = await mountQueue(50);
    const first = queue.row(0)!;
    // The Desk's next answer has the row changed (by a local change not yet sent).
    rows[0] = { ...rows[0]!, subject: "Changed elsewhere", unsent: 1 };
    await queue.refresh();
    const rowEl = screen.getAllByTestId("queue-row").find((r) => r.dataset.key === first.key)!;
    await eventually(() => expect(rowEl.querySelector(".row-subject")!.textContent).toBe("Changed elsewhere"));
    expect(rowEl.querySelector(".unsent-dot")).not.toBeNull();
  });
});
