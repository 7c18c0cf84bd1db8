// Supervisor reports from the local cache (offline too): period and scope pickers, then one
// section per figure with its chart, its table and a CSV export; and the monthly summary.
import { createEffect, createMemo, createResource, createSignal, For, Match, on, onCleanup, Show, Switch, type JSX } from "solid-js";
import type { Report } from "../backend";
import { useDesk } from "../state/app";
import { errorText } from "../lib/errors";
import { formatDate as formatDay, formatDateTime } from "../lib/time";
import type { ChartSpec, ColorRole } from "../lib/charts";
import {
  agentName,
  csvFileName,
  dateInput,
  departmentName,
  formatCell,
  formatMinutes,
  formatRate,
  labelOf,
  monthInput,
  monthPeriod,
  percent,
  periodOf,
  PRESETS,
  RECURRING_DAYS,
  recurringFrequency,
  reportParams,
  SECTIONS,
  sectionTable,
  tableCsv,
  type Period,
  type Preset,
  type Section,
  type Table,
} from "../lib/reports";
import { locale, t, type Key } from "../i18n";
import { ChartView } from "./Chart";
import { LOW_CSAT_SCORE } from "../backend/rules.gen";

const REFRESH_DEBOUNCE_MS = 1000;

type Tab = "details" | "monthly";

/** `active`: whether the screen is on display (hidden screens refresh when shown again). */
export function ReportsScreen(props: { onOpenTicket: (keyOrId: string) => void; active?: boolean }) {
  const desk = useDesk();
  const today = () => new Date();
  const [tab, setTab] = createSignal<Tab>("details");
  const [preset, setPreset] = createSignal<Preset>("last7");
  const [customFrom, setCustomFrom] = createSignal(dateInput(new Date(Date.now() - 6 * 86_400_000)));
  const [customTo, setCustomTo] = createSignal(dateInput(today()));
  const [month, setMonth] = createSignal(monthInput(today()));
  const [departments, setDepartments] = createSignal<string[]>([]);
  const [agent, setAgent] = createSignal<string | null>(null);
  const [tick, setTick] = createSignal(0);

  const period = createMemo((): Period | null =>
    tab() === "monthly" ? monthPeriod(month(), Date.now()) : periodOf(preset(), Date.now(), { from: customFrom(), to: customTo() }),
  );
  const params = createMemo(() => {
    const p = period();
    tick();
    return p ? { ...reportParams(p, departments(), agent()), _tick: tick() } : null;
  });
  const [report] = createResource(params, ({ _tick, ...p }) => desk.backend.report(p));

  // New local data (sync, own changes) refreshes the figures, at most once a second, and only
  // while they are on screen; a hidden screen catches up when it is shown again.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stale = false;
  const active = () => props.active ?? true;
  desk.onChanges(() => {
    if (!active()) {
      stale = true;
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(() => setTick((n) => n + 1), REFRESH_DEBOUNCE_MS);
  });
  createEffect(
    on(active, (on) => {
      if (on && stale) {
        stale = false;
        setTick((n) => n + 1);
      }
    }),
  );
  onCleanup(() => clearTimeout(timer));

  const toggleDepartment = (d: string, on: boolean) =>
    setDepartments((list) => (on ? [...list.filter((x) => x !== d), d].sort() : list.filter((x) => x !== d)));
  const agents = () => desk.directory().users.filter((u) => u.role === "agent" || u.departments.length > 0);
  const current = () => (report.error ? undefined : report.latest);
  const fmtDate = (iso: string) => formatDateTime(iso, locale());
  const formatDate = (iso: string) => formatDay(iso, locale());

  return (
    <section class="screen reports" data-testid="reports-screen" aria-label={t("report.title")}>
      <header class="screen-head">
        <h2>{t("report.title")}</h2>
        <div class="segmented" role="tablist">
          <button type="button" role="tab" classList={{ on: tab() === "details" }} aria-selected={tab() === "details"} data-testid="report-tab-details" onClick={() => setTab("details")}>
            {t("report.tab.details")}
          </button>
          <button type="button" role="tab" classList={{ on: tab() === "monthly" }} aria-selected={tab() === "monthly"} data-testid="report-tab-monthly" onClick={() => setTab("monthly")}>
            {t("report.tab.monthly")}
          </button>
        </div>
      </header>
      <div class="report-controls">
        <Show
          when={tab() === "details"}
          fallback={
            <label class="control">
              <span>{t("report.monthly.month")}</span>
              <input type="month" data-testid="monthly-month" value={month()} max={monthInput(today())} onChange={(e) => setMonth(e.currentTarget.value)} />
            </label>
          }
        >
          <label class="control">
            <span>{t("report.period")}</span>
            <select data-testid="report-period" value={preset()} onChange={(e) => setPreset(e.currentTarget.value as Preset)}>
              <For each={PRESETS}>{(p) => <option value={p}>{t(`report.preset.${p}` as Key)}</option>}</For>
            </select>
          </label>
          <Show when={preset() === "custom"}>
            <label class="control">
              <span>{t("report.from")}</span>
              <input type="date" data-testid="report-from" value={customFrom()} onChange={(e) => setCustomFrom(e.currentTarget.value)} />
            </label>
            <label class="control">
              <span>{t("report.to")}</span>
              <input type="date" data-testid="report-to" value={customTo()} onChange={(e) => setCustomTo(e.currentTarget.value)} />
            </label>
          </Show>
        </Show>
        <fieldset class="report-departments" data-testid="report-departments">
          <legend>{t("report.departments")}</legend>
          <For each={desk.directory().departments}>
            {(d) => (
              <label class="check">
                <input type="checkbox" data-testid={`report-department-${d.code}`} checked={departments().includes(d.code)} onChange={(e) => toggleDepartment(d.code, e.currentTarget.checked)} />
                {d.name}
              </label>
            )}
          </For>
          <span class="muted">{departments().length ? "" : t("report.departments_all")}</span>
        </fieldset>
        <label class="control">
          <span>{t("report.agent")}</span>
          <select data-testid="report-agent" value={agent() ?? ""} onChange={(e) => setAgent(e.currentTarget.value || null)}>
            <option value="">{t("report.agent_all")}</option>
            <For each={agents()}>{(u) => <option value={u.id}>{u.name}</option>}</For>
          </select>
        </label>
      </div>
      <Show when={period()} fallback={<p class="error" role="alert">{t("report.period_invalid")}</p>}>
        <Show when={!report.error} fallback={<p class="error" role="alert" data-testid="report-error">{errorText(report.error)}</p>}>
          <Show when={current()} fallback={<p class="muted">{t("common.loading")}</p>}>
            {(r) => (
              <>
                <p class="muted report-generated" data-testid="report-generated">
                  {t("report.generated", {
                    from: formatDate(r().params.from),
                    to: formatDate(new Date(Date.parse(r().params.to) - 1).toISOString()),
                    at: fmtDate(r().generated_at),
                  })}
                </p>
                <Show when={tab() === "details"}>
                  <Totals report={r()} />
                </Show>
                <Switch>
                  <Match when={tab() === "details"}>
                    <div class="report-sections">
                      <For each={SECTIONS}>{(s) => <ReportSection section={s} report={r()} period={period()!} onOpenTicket={props.onOpenTicket} />}</For>
                    </div>
                  </Match>
                  <Match when={tab() === "monthly"}>
                    <MonthlySummary report={r()} month={month()} onOpenTicket={props.onOpenTicket} />
                  </Match>
                </Switch>
              </>
            )}
          </Show>
        </Show>
      </Show>
    </section>
  );
}

function Totals(props: { report: Report }) {
  const n = (v: number) => new Intl.NumberFormat(locale()).format(v);
  return (
    <dl class="report-totals" data-testid="report-totals">
      <div>
        <dt>{t("report.totals.created")}</dt>
        <dd data-testid="report-total-created">{n(props.report.created)}</dd>
      </div>
      <div>
        <dt>{t("report.totals.resolved")}</dt>
        <dd data-testid="report-total-resolved">{n(props.report.resolved)}</dd>
      </div>
      <div>
        <dt>{t("report.totals.attainment")}</dt>
        <dd data-testid="report-total-attainment">{formatRate(props.report.sla_total.overall.rate, locale())}</dd>
      </div>
    </dl>
  );
}

/** The chart for a section, from the same table the screen and the CSV show. */
function sectionChart(section: Section, r: Report, table: Table): ChartSpec | null {
  const rates = (rows: Array<{ rate: number | null }>) => rows.map((a) => percent(a.rate));
  switch (section) {
    case "sla-departments":
      if (!r.department_ranking.length) return null;
      return {
        kind: "bar",
        horizontal: true,
        percent: true,
        labels: r.department_ranking.map((d) => `${d.rank}. ${departmentName(d.department)}`),
        series: [{ label: t("report.col.rate"), data: rates(r.department_ranking.map((d) => d.attainment)), color: "series1" }],
      };
    case "sla-priority":
    case "sla-agents": {
      const rows = section === "sla-priority" ? r.sla_by_priority : r.sla_by_agent;
      if (!rows.length) return null;
      return {
        kind: "bar",
        horizontal: section === "sla-agents",
        percent: true,
        labels: table.rows.map((row) => String(row[0])),
        series: [
          { label: t("report.col.first_response"), data: rates(rows.map((x) => x.first_response)), color: "series1" },
          { label: t("report.col.update"), data: rates(rows.map((x) => x.update)), color: "series2" },
          { label: t("report.col.resolution"), data: rates(rows.map((x) => x.resolution)), color: "series3" },
          { label: t("report.col.overall"), data: rates(rows.map((x) => x.overall)), color: "series4" },
        ],
      };
    }
    case "times": {
      if (!r.first_response.count && !r.resolution.count) return null;
      const hours = (m: number | null) => (m === null ? null : m / 60);
      return {
        kind: "bar",
        unit: t("report.unit_hours"),
        labels: [t("report.col.first_response"), t("report.col.resolution")],
        series: [
          { label: t("report.col.median"), data: [hours(r.first_response.median_minutes), hours(r.resolution.median_minutes)], color: "series1" },
          { label: t("report.col.p90"), data: [hours(r.first_response.p90_minutes), hours(r.resolution.p90_minutes)], color: "series2" },
        ],
      };
    }
    case "categories":
      if (!r.by_category.length) return null;
      return {
        kind: "bar",
        horizontal: true,
        labels: r.by_category.map((c) => labelOf("category", c.key)),
        series: [{ label: t("report.col.count"), data: r.by_category.map((c) => c.count), color: "base", colors: r.by_category.map((c): ColorRole => (c.top ? "top" : "base")) }],
      };
    case "channels":
      if (!r.by_channel.length) return null;
      return { kind: "bar", labels: r.by_channel.map((c) => labelOf("channel", c.key)), series: [{ label: t("report.col.count"), data: r.by_channel.map((c) => c.count), color: "series1" }] };
    case "days":
      if (!r.by_day.length) return null;
      return {
        kind: "line",
        labels: r.by_day.map((d) => d.day.slice(5)),
        series: [
          { label: t("report.col.created"), data: r.by_day.map((d) => d.created), color: "series1" },
          { label: t("report.col.resolved"), data: r.by_day.map((d) => d.resolved), color: "series3" },
        ],
      };
    case "backlog":
      return { kind: "bar", labels: table.rows.map((row) => String(row[0])), series: [{ label: t("report.col.count"), data: r.backlog_by_age.map((b) => b.count), color: "series2" }] };
    case "csat":
      if (!r.csat.responses) return null;
      return {
        kind: "bar",
        labels: ["1", "2", "3", "4", "5"],
        series: [{ label: t("report.col.count"), data: [...r.csat.distribution], color: "series1", colors: ["bad", "bad", "warn", "ok", "ok"] }],
      };
    case "reopen":
      if (!r.reopen.resolved) return null;
      return {
        kind: "bar",
        horizontal: true,
        labels: [t("report.reopen.kept"), t("report.col.reopened")],
        series: [{ label: t("report.col.count"), data: [r.reopen.resolved - r.reopen.reopened, r.reopen.reopened], color: "series1", colors: ["ok", "bad"] }],
      };
    case "recurring":
      if (!r.recurring.length) return null;
      return {
        kind: "bar",
        horizontal: true,
        labels: r.recurring.slice(0, 10).map((i) => `${i.account_id} · ${labelOf("category", i.category)}`),
        series: [{ label: t("report.col.count"), data: r.recurring.slice(0, 10).map((i) => i.count), color: "series2" }],
      };
  }
}

function isEmpty(section: Section, r: Report): boolean {
  switch (section) {
    case "sla-departments":
      return !r.sla_by_department.length;
    case "sla-priority":
      return !r.sla_by_priority.length;
    case "sla-agents":
      return !r.sla_by_agent.length;
    case "times":
      return !r.first_response.count && !r.resolution.count;
    case "categories":
      return !r.by_category.length;
    case "channels":
      return !r.by_channel.length;
    case "days":
      return !r.by_day.some((d) => d.created || d.resolved);
    case "backlog":
      return !r.backlog_by_age.some((b) => b.count);
    case "csat":
      return !r.csat.responses;
    case "reopen":
      return !r.reopen.resolved;
    case "recurring":
      return !r.recurring.length;
  }
}

function summaryOf(section: Section, r: Report): string | null {
  const n = (v: number) => new Intl.NumberFormat(locale()).format(v);
  switch (section) {
    case "csat":
      return r.csat.responses
        ? t("report.csat.summary", {
            average: r.csat.average === null ? "—" : new Intl.NumberFormat(locale(), { maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(r.csat.average),
            count: n(r.csat.responses),
            low: n(r.csat.low),
            threshold: LOW_CSAT_SCORE,
          })
        : null;
    case "reopen":
      return r.reopen.resolved ? t("report.reopen.summary", { reopened: n(r.reopen.reopened), resolved: n(r.reopen.resolved), rate: formatRate(r.reopen.rate, locale()) }) : null;
    case "times":
      return r.first_response.count || r.resolution.count
        ? t("report.times.summary", { first: formatMinutes(r.first_response.median_minutes), resolution: formatMinutes(r.resolution.median_minutes) })
        : null;
    case "sla-departments": {
      const unranked = r.sla_by_department.length - r.department_ranking.length;
      return unranked > 0 ? t("report.sla.unranked", { count: unranked }) : null;
    }
    case "recurring":
      return r.recurring.length ? t("report.recurring.summary", { days: r.params.recurring_days }) : null;
    default:
      return null;
  }
}

/** Sections with wide tables or long time axes take the whole row. */
const WIDE: ReadonlySet<Section> = new Set<Section>(["sla-priority", "sla-agents", "days", "recurring"]);

function ReportSection(props: { section: Section; report: Report; period: Period; onOpenTicket: (key: string) => void }) {
  const desk = useDesk();
  const [saved, setSaved] = createSignal<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = createSignal(false);
  const table = createMemo(() => sectionTable(props.section, props.report, desk.directory()));
  const chart = createMemo(() => sectionChart(props.section, props.report, table()));
  const title = () => t(`report.section.${props.section}` as Key);
  /** What the chart shows, for screen readers: its first bars and their values. */
  const chartLabel = (spec: ChartSpec) => {
    const first = spec.series[0];
    const values = spec.labels.slice(0, 8).map((l, i) => {
      const v = first?.data[i];
      return `${l} ${v === null || v === undefined ? "—" : `${Math.round(v * 10) / 10}${spec.percent ? " %" : spec.unit ? ` ${spec.unit}` : ""}`}`;
    });
    return `${title()}${first && spec.series.length > 1 ? ` (${first.label})` : ""}: ${values.join(", ")}`;
  };

  const exportCsv = async () => {
    setBusy(true);
    setSaved(null);
    try {
      const file = await desk.backend.saveFile(csvFileName(props.section, props.period), tableCsv(table()));
      setSaved({ ok: true, text: t("report.saved", { path: file.path, bytes: new Intl.NumberFormat(locale()).format(file.bytes) }) });
    } catch (e) {
      setSaved({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="report-section" classList={{ wide: WIDE.has(props.section) }} data-testid={`report-section-${props.section}`} aria-label={title()}>
      <header class="report-section-head">
        <h3>{title()}</h3>
        <button type="button" data-testid={`report-export-${props.section}`} disabled={busy()} onClick={() => void exportCsv()}>
          {t("report.export")}
        </button>
      </header>
      <Show when={saved()}>
        {(s) => (
          <p class={s().ok ? "muted saved-line" : "error"} role="status" data-testid={`report-saved-${props.section}`}>
            {s().text}
          </p>
        )}
      </Show>
      <Show when={!isEmpty(props.section, props.report)} fallback={<p class="empty" data-testid="report-empty">{t(`report.empty.${props.section}` as Key)}</p>}>
        <Show when={summaryOf(props.section, props.report)}>{(s) => <p class="report-summary">{s()}</p>}</Show>
        <Show when={chart()}>{(spec) => <ChartView spec={spec()} label={chartLabel(spec())} />}</Show>
        <ReportTable table={table()} onOpenTicket={props.onOpenTicket} />
      </Show>
    </section>
  );
}

export function ReportTable(props: { table: Table; onOpenTicket?: (key: string) => void }) {
  const fmtDate = (iso: string) => formatDay(iso, locale());
  const cell = (value: Table["rows"][number][number], kind: Table["columns"][number]["kind"]): JSX.Element => {
    if (kind === "keys" && typeof value === "string") {
      return (
        <span class="ticket-keys">
          <For each={value.split(" ").filter(Boolean)}>
            {(key) => (
              <button type="button" class="link" data-testid="report-ticket-key" onClick={() => props.onOpenTicket?.(key)}>
                {key}
              </button>
            )}
          </For>
        </span>
      );
    }
    return formatCell(value, kind, locale(), fmtDate);
  };
  return (
    <div class="table-scroll">
      <table class="report-table" data-testid="report-table">
        <thead>
          <tr>
            <For each={props.table.columns}>{(c) => <th scope="col" classList={{ num: c.kind !== "text" && c.kind !== "keys" && c.kind !== "date" }}>{c.label}</th>}</For>
          </tr>
        </thead>
        <tbody>
          <For each={props.table.rows}>
            {(row, i) => (
              <tr classList={{ top: !!props.table.highlight?.[i()] }} data-top={props.table.highlight?.[i()] ? "true" : undefined}>
                <For each={row}>
                  {(value, j) => {
                    const kind = props.table.columns[j()]!.kind;
                    return <td classList={{ num: kind !== "text" && kind !== "keys" && kind !== "date" }}>{cell(value, kind)}</td>;
                  }}
                </For>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}

/** The month's headline figures, as the seeds' monthly report lists them. */
function MonthlySummary(props: { report: Report; month: string; onOpenTicket: (key: string) => void }) {
  const desk = useDesk();
  const n = (v: number) => new Intl.NumberFormat(locale()).format(v);
  const r = () => props.report;
  const monthName = () => {
    const [y, m] = props.month.split("-").map(Number);
    return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "long" }).format(new Date(y ?? 1970, (m ?? 1) - 1, 1));
  };
  const top = () => r().by_category.filter((c) => c.top);
  const share = (count: number) => formatRate(r().created ? count / r().created : null, locale());
  const frequency = () => recurringFrequency(r());
  const recurringTickets = () => r().recurring.reduce((sum, i) => sum + i.count, 0);
  const accounts = () => new Set(r().recurring.map((i) => i.account_id)).size;
  const csatMax = () => Math.max(1, ...r().csat.distribution);
  return (
    <div class="monthly" data-testid="monthly-summary">
      <h3>{t("report.monthly.title", { month: monthName() })}</h3>
      <dl class="report-totals">
        <div>
          <dt>{t("report.totals.created")}</dt>
          <dd data-testid="monthly-created">{n(r().created)}</dd>
        </div>
        <div>
          <dt>{t("report.totals.resolved")}</dt>
          <dd data-testid="monthly-resolved">{n(r().resolved)}</dd>
        </div>
        <div>
          <dt>{t("report.totals.attainment")}</dt>
          <dd data-testid="monthly-attainment">{formatRate(r().sla_total.overall.rate, locale())}</dd>
        </div>
      </dl>
      <div class="monthly-grid">
        <section class="report-section" data-testid="monthly-top-types">
          <h4>{t("report.monthly.top_types")}</h4>
          <Show when={top().length} fallback={<p class="empty">{t("report.empty.categories")}</p>}>
            <ol class="monthly-list">
              <For each={top()}>
                {(c) => (
                  <li>
                    <span>{labelOf("category", c.key)}</span>
                    <span class="num">{t("report.monthly.count_share", { count: n(c.count), share: share(c.count) })}</span>
                  </li>
                )}
              </For>
            </ol>
          </Show>
        </section>
        <section class="report-section" data-testid="monthly-ranking">
          <h4>{t("report.monthly.ranking")}</h4>
          <Show when={r().department_ranking.length} fallback={<p class="empty">{t("report.empty.sla-departments")}</p>}>
            <ol class="monthly-list">
              <For each={r().department_ranking}>
                {(d) => (
                  <li>
                    <span>
                      {d.rank}. {departmentName(d.department)}
                    </span>
                    <span class="num">
                      {formatRate(d.attainment.rate, locale())} · {t("report.monthly.tickets", { count: n(d.tickets) })}
                    </span>
                  </li>
                )}
              </For>
            </ol>
          </Show>
        </section>
        <section class="report-section" data-testid="monthly-csat">
          <h4>{t("report.monthly.csat")}</h4>
          <Show when={r().csat.responses} fallback={<p class="empty">{t("report.empty.csat")}</p>}>
            <p>{summaryOf("csat", r())}</p>
            <ul class="csat-bars">
              <For each={r().csat.distribution}>
                {(count, i) => (
                  <li data-score={i() + 1}>
                    <span class="csat-score">{i() + 1}</span>
                    <span class="csat-bar" style={{ width: `${(count / csatMax()) * 100}%` }} />
                    <span class="num">{n(count)}</span>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        </section>
        <section class="report-section wide" data-testid="monthly-recurring">
          <h4>{t("report.monthly.recurring")}</h4>
          <Show when={r().recurring.length} fallback={<p class="empty">{t("report.monthly.recurring_none", { days: RECURRING_DAYS })}</p>}>
            <p>{t("report.monthly.recurring_summary", { issues: n(r().recurring.length), accounts: n(accounts()), tickets: n(recurringTickets()) })}</p>
            <ReportTable
              table={{
                columns: [
                  { label: t("report.monthly.times_col"), kind: "int" },
                  { label: t("report.monthly.issues_col"), kind: "int" },
                ],
                rows: frequency().map((f) => [f.times, f.issues]),
              }}
            />
            <ReportTable table={{ ...sectionTable("recurring", r(), desk.directory()), rows: sectionTable("recurring", r(), desk.directory()).rows.slice(0, 5) }} onOpenTicket={props.onOpenTicket} />
          </Show>
        </section>
      </div>
      <p class="muted" data-testid="monthly-scope">
        {t("report.scope", {
          departments: r().params.departments.length ? r().params.departments.map(departmentName).join(t("common.list_separator")) : t("report.departments_all"),
          agent: r().params.assignee ? agentName(desk.directory(), r().params.assignee ?? "") : t("report.agent_all"),
        })}
      </p>
    </div>
  );
}
