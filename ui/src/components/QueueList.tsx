import { createVirtualizer } from "@tanstack/solid-virtual";
import { createEffect, createMemo, For, Show, on } from "solid-js";
import type { QueueModel } from "../state/queue";
import { SlaBadge } from "./SlaBadge";
import { PriorityChip } from "./Chips";
import { locale, t } from "../i18n";
import { now } from "../lib/clock";
import { categoryLabel } from "../lib/categories";
import { formatAge, formatSpan } from "../lib/time";

/** Must match --row-height in styles.css (fixed rows: no layout shift, no measuring). */
export const ROW_HEIGHT = 56;

export type QueueListApi = { scrollToIndex: (index: number) => void };

/** Set once per page load: the cold-start benchmark reads the `outpost:queue-ready` mark. */
let queueReadyMarked = false;

export function QueueList(props: {
  queue: QueueModel;
  selectedId: string | null;
  onSelect: (id: string, index: number) => void;
  emptyText: string;
  api?: (api: QueueListApi) => void;
}) {
  let scrollEl: HTMLDivElement | undefined;
  const virtualizer = createVirtualizer({
    get count() {
      return props.queue.total();
    },
    getScrollElement: () => scrollEl ?? null,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });

  props.api?.({ scrollToIndex: (index) => virtualizer.scrollToIndex(index, { align: "auto" }) });

  // The first time the queue is on screen with its rows (or known to be empty): the start-up
  // benchmark's end point.
  createEffect(() => {
    if (!queueReadyMarked && props.queue.ready() && (props.queue.total() === 0 || props.queue.row(0))) {
      queueReadyMarked = true;
      performance.mark("outpost:queue-ready");
    }
  });

  // Fetch what the visible window needs whenever it moves.
  createEffect(
    on(
      () => {
        const items = virtualizer.getVirtualItems();
        return [items[0]?.index ?? 0, items[items.length - 1]?.index ?? 0] as const;
      },
      ([first, last]) => void props.queue.ensure(first, last),
    ),
  );

  return (
    <div
      class="queue-scroll"
      ref={scrollEl}
      data-testid="queue-list"
      data-ready={props.queue.ready() ? "true" : "false"}
      role="listbox" aria-label={t("queue.label")} tabIndex={-1}>
      <Show when={props.queue.ready() && props.queue.total() === 0}>
        <p class="empty">{props.emptyText}</p>
      </Show>
      <div class="queue-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        <For each={virtualizer.getVirtualItems()}>
          {(item) => (
            <QueueRowView
              queue={props.queue}
              index={item.index}
              start={item.start}
              selectedId={props.selectedId}
              onSelect={props.onSelect}
            />
          )}
        </For>
      </div>
    </div>
  );
}

function QueueRowView(props: {
  queue: QueueModel;
  index: number;
  start: number;
  selectedId: string | null;
  onSelect: (id: string, index: number) => void;
}) {
  const row = () => props.queue.row(props.index);
  // Age needs minutes, not seconds: this memo changes once a minute, not on every tick.
  const minute = createMemo(() => Math.floor(now() / 60_000) * 60_000);
  return (
    <div
      class="queue-row"
      classList={{ selected: !!row() && row()!.id === props.selectedId, placeholder: !row() }}
      style={{ transform: `translateY(${props.start}px)` }}
      data-testid="queue-row"
      data-key={row()?.key ?? ""}
      data-index={props.index}
      role="option"
      aria-selected={!!row() && row()!.id === props.selectedId}
      onClick={() => {
        const r = row();
        if (r) props.onSelect(r.id, props.index);
      }}
    >
      <Show when={row()} fallback={<span class="loading-row">{t("queue.loading_row")}</span>}>
        {(r) => (
          <>
            <div class="row-line">
              <span class="row-key">{r().key ?? t("ticket.unsynced_key")}</span>
              <PriorityChip priority={r().priority} />
              <SlaBadge due={r().sla_due_at} warn={r().sla_warn_at} paused={r().sla_paused} />
              <Show when={r().revisit_due_at}>{(due) => <RevisitBadge due={due()} minute={minute()} />}</Show>
              <span class="row-status">{t(`status.${r().status}`)}</span>
              <Show when={r().unsent > 0}>
                <span class="unsent-dot" title={t("queue.unsent", { count: r().unsent })} aria-label={t("queue.unsent", { count: r().unsent })}>
                  ●
                </span>
              </Show>
            </div>
            <div class="row-subject" data-testid="customer-text">
              {r().subject}
            </div>
            <div class="row-meta">
              <span data-testid="customer-text">{r().requester_name}</span>
              <span> · {categoryLabel(r().category)}</span>
              <span> · {formatAge(r().created_at, minute(), locale())}</span>
            </div>
          </>
        )}
      </Show>
    </div>
  );
}

/** "Revisit due in 3 h" / "Revisit overdue by 2 h": a low score's call-back, by the minute. */
export function RevisitBadge(props: { due: string; minute: number }) {
  const seconds = () => Math.round((Date.parse(props.due) - props.minute) / 1000);
  const span = () =>
    formatSpan(seconds(), {
      min: (n) => t("span.minutes", { n }),
      h: (n) => t("span.hours", { n }),
      d: (n) => t("span.days", { n }),
    });
  const overdue = () => seconds() < 0;
  return (
    <span class="chip revisit" data-testid="revisit-badge" data-state={overdue() ? "overdue" : "due"} title={t("clock.revisit")}>
      {overdue() ? t("queue.revisit_overdue", { time: span() }) : t("queue.revisit_in", { time: span() })}
    </span>
  );
}
