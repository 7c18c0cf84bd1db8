// Business hours and holidays: the calendar's time zone, weekly hours with breaks (several
// intervals a day), holidays, special periods (who recorded them, when and why), a month view,
// and before saving, how many open tickets' deadlines the change moves (counted by the Desk).
import { createEffect, createMemo, createSignal, For, Index, on, onCleanup, Show } from "solid-js";
import { unwrap } from "solid-js/store";
import type { MonthDay, OpenInterval, SpecialPeriod } from "../../backend";
import { clockText, minuteOf, monthGrid, timeZones, WEEKDAYS, withItem } from "../../lib/adminFormat";
import { errorText } from "../../lib/errors";
import { formatDateTime } from "../../lib/time";
import { locale, t } from "../../i18n";
import { useDesk } from "../../state/app";
import { useSettingsEditor, SaveBar, SectionHead, useAdmin } from "./state";
import type { BusinessCalendar, CalendarEffect, SettingsDoc, SlaSettings } from "./model";

const EFFECT_DEBOUNCE_MS = 300;

/** Opening intervals of one day or special period: start and end times, add and remove. */
export function Intervals(props: { intervals: OpenInterval[]; onChange: (next: OpenInterval[]) => void; testid: string; closedText: string }) {
  const update = (i: number, key: keyof OpenInterval, text: string) => {
    const minute = minuteOf(text, key === "end_minute");
    if (minute === null) return;
    props.onChange(props.intervals.map((iv, j) => (j === i ? { ...iv, [key]: minute } : iv)));
  };
  const add = () => {
    const last = props.intervals[props.intervals.length - 1];
    const start = last ? Math.min(last.end_minute + 60, 1380) : 9 * 60;
    props.onChange([...props.intervals, { start_minute: start, end_minute: Math.min(start + 60, 1440) }]);
  };
  return (
    <span class="admin-intervals" data-testid={props.testid}>
      <Show when={props.intervals.length === 0}>
        <span class="muted" data-testid="interval-closed">
          {props.closedText}
        </span>
      </Show>
      <Index each={props.intervals}>
        {(iv, i) => (
          <span class="admin-interval" data-testid="interval">
            <input
              type="time"
              data-testid="interval-start"
              aria-label={t("admin.calendar.opens")}
              value={clockText(iv().start_minute)}
              onChange={(e) => update(i, "start_minute", e.currentTarget.value)}
            />
            <span>–</span>
            <input
              type="time"
              data-testid="interval-end"
              aria-label={t("admin.calendar.closes")}
              value={clockText(iv().end_minute === 1440 ? 0 : iv().end_minute)}
              onChange={(e) => update(i, "end_minute", e.currentTarget.value)}
            />
            <button
              type="button"
              class="link"
              data-testid="interval-remove"
              aria-label={t("admin.remove")}
              onClick={() => props.onChange(props.intervals.filter((_, j) => j !== i))}
            >
              {t("admin.remove")}
            </button>
          </span>
        )}
      </Index>
      <button type="button" class="link" data-testid="interval-add" onClick={add}>
        {props.intervals.length ? t("admin.calendar.add_break") : t("admin.calendar.add_hours")}
      </button>
    </span>
  );
}

/**
 * The month view: each day open, closed, a holiday or under a special period, as the Desk's
 * calendar reads the draft being edited (`calendarMonth`).
 */
function MonthView(props: { calendar: BusinessCalendar }) {
  const admin = useAdmin();
  const today = new Date();
  const [month, setMonth] = createSignal({ year: today.getFullYear(), month: today.getMonth() });
  const [answer, setAnswer] = createSignal<{ kind: "loading" } | { kind: "done"; days: MonthDay[] } | { kind: "failed"; text: string }>({ kind: "loading" });
  let generation = 0;
  createEffect(
    on(
      () => [JSON.stringify(props.calendar), month()] as const,
      async ([, m]) => {
        const g = ++generation;
        const calendar = structuredClone(unwrap(props.calendar)) as BusinessCalendar;
        try {
          const days = await admin.backend.calendarMonth(calendar, m.year, m.month + 1);
          if (g === generation) setAnswer({ kind: "done", days });
        } catch (e) {
          if (g === generation) setAnswer({ kind: "failed", text: errorText(e) });
        }
      },
    ),
  );
  const cells = createMemo(() => {
    const a = answer();
    return a.kind === "done" ? monthGrid(a.days) : [];
  });
  const title = () => new Intl.DateTimeFormat(locale(), { year: "numeric", month: "long", timeZone: "UTC" }).format(new Date(Date.UTC(month().year, month().month, 1)));
  const step = (delta: number) =>
    setMonth((m) => {
      const d = new Date(Date.UTC(m.year, m.month + delta, 1));
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() };
    });
  const weekdayNames = () => WEEKDAYS.map((d) => t(`admin.calendar.short.${d}`));
  return (
    <div class="admin-month" data-testid="calendar-month">
      <div class="admin-month-head">
        <button type="button" data-testid="calendar-prev" aria-label={t("admin.calendar.prev_month")} onClick={() => step(-1)}>
          ‹
        </button>
        <strong data-testid="calendar-month-title">{title()}</strong>
        <button type="button" data-testid="calendar-next" aria-label={t("admin.calendar.next_month")} onClick={() => step(1)}>
          ›
        </button>
      </div>
      <Show when={answer().kind === "failed" && answer()}>{(a) => <p class="error" data-testid="calendar-month-error">{(a() as { text: string }).text}</p>}</Show>
      <div class="admin-month-grid" role="grid" data-testid="calendar-month-grid" data-state={answer().kind}>
        <For each={weekdayNames()}>{(name) => <span class="admin-month-weekday">{name}</span>}</For>
        <For each={cells()}>
          {(cell) =>
            cell ? (
              <span
                class={`admin-day admin-day-${cell.state}`}
                data-testid="calendar-day"
                data-date={cell.date}
                data-state={cell.state}
                title={[t(`admin.calendar.state.${cell.state}`), cell.note, cell.hours].filter((part) => part).join(" · ")}
              >
                {cell.day}
              </span>
            ) : (
              <span class="admin-day admin-day-pad" />
            )
          }
        </For>
      </div>
      <ul class="admin-legend">
        <For each={["open", "closed", "holiday", "special_open", "special_closed"] as const}>
          {(s) => (
            <li>
              <span class={`admin-swatch admin-day-${s}`} />
              {t(`admin.calendar.state.${s}`)}
            </li>
          )}
        </For>
      </ul>
    </div>
  );
}

/**
 * While the SLA draft (calendar or policies; both tabs edit one document) differs from what is
 * stored, how many open tickets' deadlines it would move, as the Desk counts them.
 */
export function DeadlineEffect(props: { testid: string }) {
  const admin = useAdmin();
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "sla" }>>("sla");
  const sla = () => editor.doc() as SlaSettings | null;
  const [effect, setEffect] = createSignal<{ kind: "none" } | { kind: "done"; effect: CalendarEffect } | { kind: "failed"; text: string }>({ kind: "none" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  createEffect(
    on(
      () => (editor.dirty() && sla() ? JSON.stringify(sla()) : null),
      (key) => {
        clearTimeout(timer);
        const g = ++generation;
        if (key === null) return setEffect({ kind: "none" });
        timer = setTimeout(async () => {
          const draft = structuredClone(unwrap(sla())) as SlaSettings;
          try {
            const answer = await admin.backend.calendarEffect(draft);
            if (g === generation) setEffect({ kind: "done", effect: answer });
          } catch (e) {
            if (g === generation) setEffect({ kind: "failed", text: errorText(e) });
          }
        }, EFFECT_DEBOUNCE_MS);
      },
    ),
  );
  onCleanup(() => clearTimeout(timer));
  return (
    <div class="admin-effect" data-testid={props.testid} data-state={effect().kind}>
      <Show when={effect().kind === "done" && effect()}>
        {(e) => {
          const r = () => (e() as { effect: CalendarEffect }).effect;
          return <span>{t("admin.calendar.effect", { moved: r().moved, open: r().open })}</span>;
        }}
      </Show>
      <Show when={effect().kind === "failed" && effect()}>{(e) => <span class="error">{(e() as { text: string }).text}</span>}</Show>
    </div>
  );
}

export function BusinessHours() {
  const desk = useDesk();
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "sla" }>>("sla");
  const sla = () => editor.doc() as SlaSettings | null;
  const cal = () => sla()?.calendar ?? null;
  const zones = createMemo(() => timeZones(cal()?.tz ?? "UTC"));
  const [newHoliday, setNewHoliday] = createSignal({ date: "", name: "" });

  const editCal = (fn: (c: BusinessCalendar) => void) => editor.edit((d) => fn(d.calendar));

  /** Changes a special period; it then records this admin and now as who changed it and when. */
  const editPeriod = (i: number, fn: (p: SpecialPeriod) => void) =>
    editCal((c) =>
      withItem(c.special_periods, i, (p) => {
        fn(p);
        p.recorded_by = desk.me.user.name;
        p.recorded_at = new Date().toISOString();
      }),
    );

  const addHoliday = () => {
    const h = newHoliday();
    if (!h.date) return;
    editCal((c) => void c.holidays.push({ date: h.date, name: h.name.trim() }));
    setNewHoliday({ date: "", name: "" });
  };

  const addPeriod = () => {
    const today = new Date().toISOString().slice(0, 10);
    editCal(
      (c) =>
        void c.special_periods.push({
          from: today,
          to: today,
          hours: [],
          reason: "",
          recorded_by: desk.me.user.name,
          recorded_at: new Date().toISOString(),
        }),
    );
  };

  return (
    <section class="admin-section" data-testid="admin-calendar">
      <SectionHead title={t("admin.tab.calendar")} editor={editor} />
      <Show when={cal()}>
        {(c) => (
          <div class="admin-form">
            <label>
              <span>{t("admin.calendar.name")}</span>
              <input type="text" data-testid="calendar-name" value={c().name} onInput={(e) => editCal((x) => void (x.name = e.currentTarget.value))} />
            </label>
            <label>
              <span>{t("admin.calendar.tz")}</span>
              <select data-testid="calendar-tz" value={c().tz} onChange={(e) => editCal((x) => void (x.tz = e.currentTarget.value))}>
                <For each={zones()}>{(z) => <option value={z}>{z}</option>}</For>
              </select>
            </label>
            <h4>{t("admin.calendar.weekly")}</h4>
            <table class="admin-table" data-testid="calendar-weekly">
              <tbody>
                <For each={WEEKDAYS}>
                  {(day) => (
                    <tr data-testid={`weekday-${day}`}>
                      <th>{t(`admin.calendar.day.${day}`)}</th>
                      <td>
                        <Intervals
                          testid={`hours-${day}`}
                          closedText={t("admin.calendar.closed")}
                          intervals={c().weekly[day]}
                          onChange={(next) => editCal((x) => void (x.weekly[day] = next))}
                        />
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
            <p class="muted">{t("admin.calendar.midnight_hint")}</p>

            <h4>{t("admin.calendar.holidays")}</h4>
            <ul class="admin-list" data-testid="calendar-holidays">
              <Index each={c().holidays}>
                {(h, i) => (
                  <li data-testid="holiday">
                    <input type="date" data-testid="holiday-date" value={h().date} onChange={(e) => editCal((x) => withItem(x.holidays, i, (item) => void (item.date = e.currentTarget.value)))} />
                    <input type="text" data-testid="holiday-name" value={h().name} onInput={(e) => editCal((x) => withItem(x.holidays, i, (item) => void (item.name = e.currentTarget.value)))} />
                    <button type="button" class="link" data-testid="holiday-remove" onClick={() => editCal((x) => void x.holidays.splice(i, 1))}>
                      {t("admin.remove")}
                    </button>
                  </li>
                )}
              </Index>
            </ul>
            <div class="admin-inline">
              <input
                type="date"
                data-testid="holiday-new-date"
                aria-label={t("admin.calendar.holiday_date")}
                value={newHoliday().date}
                onInput={(e) => setNewHoliday({ ...newHoliday(), date: e.currentTarget.value })}
              />
              <input
                type="text"
                data-testid="holiday-new-name"
                placeholder={t("admin.calendar.holiday_name")}
                value={newHoliday().name}
                onInput={(e) => setNewHoliday({ ...newHoliday(), name: e.currentTarget.value })}
              />
              <button type="button" data-testid="holiday-add" disabled={!newHoliday().date} onClick={addHoliday}>
                {t("admin.calendar.add_holiday")}
              </button>
            </div>

            <h4>{t("admin.calendar.special")}</h4>
            <p class="muted">{t("admin.calendar.special_hint")}</p>
            <ul class="admin-list" data-testid="calendar-periods">
              <Index each={c().special_periods}>
                {(p, i) => (
                  <li data-testid="period" class="admin-period">
                    <span class="admin-inline">
                      <label>
                        <span>{t("admin.calendar.from")}</span>
                        <input type="date" data-testid="period-from" value={p().from} onChange={(e) => editPeriod(i, (item) => void (item.from = e.currentTarget.value))} />
                      </label>
                      <label>
                        <span>{t("admin.calendar.to")}</span>
                        <input type="date" data-testid="period-to" value={p().to} onChange={(e) => editPeriod(i, (item) => void (item.to = e.currentTarget.value))} />
                      </label>
                      <label>
                        <span>{t("admin.calendar.reason")}</span>
                        <input type="text" data-testid="period-reason" value={p().reason} onInput={(e) => editPeriod(i, (item) => void (item.reason = e.currentTarget.value))} />
                      </label>
                      <button type="button" class="link" data-testid="period-remove" onClick={() => editCal((x) => void x.special_periods.splice(i, 1))}>
                        {t("admin.remove")}
                      </button>
                    </span>
                    <Intervals
                      testid="period-hours"
                      closedText={t("admin.calendar.closed_all_day")}
                      intervals={p().hours}
                      onChange={(next) => editPeriod(i, (item) => void (item.hours = next))}
                    />
                    <span class="muted" data-testid="period-recorded">
                      {t("admin.calendar.recorded", { who: p().recorded_by, when: formatDateTime(p().recorded_at, locale()) })}
                    </span>
                  </li>
                )}
              </Index>
            </ul>
            <button type="button" data-testid="period-add" onClick={addPeriod}>
              {t("admin.calendar.add_period")}
            </button>

            <h4>{t("admin.calendar.month")}</h4>
            <MonthView calendar={c()} />

            <DeadlineEffect testid="calendar-effect" />
            <SaveBar editor={editor} />
          </div>
        )}
      </Show>
    </section>
  );
}
