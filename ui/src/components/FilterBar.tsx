import { For } from "solid-js";
import type { QueueSort, SlaFilter } from "../backend";
import type { FilterBar as Bar } from "../lib/views";
import { ALL_STATUSES } from "../lib/views";
import { useDesk } from "../state/app";
import { t } from "../i18n";
import { allCategories, categoryLabel } from "../lib/categories";
import { PRIORITIES } from "./TicketControls";

const SLA: SlaFilter[] = ["on_track", "at_risk", "breached", "paused"];
const SORTS: QueueSort[] = ["sla_due", "priority", "updated"];

export function FilterBar(props: { bar: Bar; sort: QueueSort; onBar: (bar: Bar) => void; onSort: (sort: QueueSort) => void }) {
  const desk = useDesk();
  const set = <K extends keyof Bar>(key: K, value: string) => props.onBar({ ...props.bar, [key]: value === "" ? null : value });
  return (
    <div class="filter-bar" data-testid="filter-bar">
      <select aria-label={t("filter.status")} data-testid="filter-status" value={props.bar.status ?? ""} onChange={(e) => set("status", e.currentTarget.value)}>
        <option value="">{t("filter.status")}</option>
        <For each={ALL_STATUSES}>{(s) => <option value={s}>{t(`status.${s}`)}</option>}</For>
      </select>
      <select aria-label={t("filter.priority")} data-testid="filter-priority" value={props.bar.priority ?? ""} onChange={(e) => set("priority", e.currentTarget.value)}>
        <option value="">{t("filter.priority")}</option>
        <For each={PRIORITIES}>{(p) => <option value={p}>{p}</option>}</For>
      </select>
      <select aria-label={t("filter.department")} data-testid="filter-department" value={props.bar.department ?? ""} onChange={(e) => set("department", e.currentTarget.value)}>
        <option value="">{t("filter.department")}</option>
        <For each={desk.directory().departments}>{(d) => <option value={d.code}>{d.name}</option>}</For>
      </select>
      <select aria-label={t("filter.category")} data-testid="filter-category" value={props.bar.category ?? ""} onChange={(e) => set("category", e.currentTarget.value)}>
        <option value="">{t("filter.category")}</option>
        <For each={allCategories()}>{(c) => <option value={c}>{categoryLabel(c)}</option>}</For>
      </select>
      <select aria-label={t("filter.sla")} data-testid="filter-sla" value={props.bar.sla ?? ""} onChange={(e) => set("sla", e.currentTarget.value)}>
        <option value="">{t("filter.sla")}</option>
        <For each={SLA}>{(s) => <option value={s}>{t(`sla.state.${s}`)}</option>}</For>
      </select>
      <select aria-label={t("filter.sort")} data-testid="queue-sort" value={props.sort} onChange={(e) => props.onSort(e.currentTarget.value as QueueSort)}>
        <For each={SORTS}>{(s) => <option value={s}>{t(`sort.${s}`)}</option>}</For>
      </select>
    </div>
  );
}
