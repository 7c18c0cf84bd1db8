import { createSignal, For, Show } from "solid-js";
import type { Category, Mutation, Priority, RiskLevel, Status, Ticket } from "../backend";
import { useDesk } from "../state/app";
import { t } from "../i18n";
import { RISK_LEVELS, SETTABLE_RISKS } from "../backend/rules.gen";
import { categoriesInUse, categoryLabel } from "../lib/categories";
import { AssigneePicker } from "./AssigneePicker";

export const PRIORITIES: Priority[] = ["P1", "P2", "P3", "P4"];
export const RISKS: RiskLevel[] = RISK_LEVELS;

/** Targets that need someone holding the ticket (status.rs `check_transition`). */
export function needsAssignee(target: Status): boolean {
  return target === "assigned" || target === "in_progress";
}

export type ControlsApi = { focusStatus: () => void; focusPriority: () => void; assignToMe: () => void };

/** Status (only the allowed targets), priority, category, risk, assignee, department, tags. */
export function TicketControls(props: {
  ticket: Ticket;
  onChange: (mutation: Mutation) => Promise<boolean>;
  api?: (api: ControlsApi) => void;
}) {
  const desk = useDesk();
  const [tag, setTag] = createSignal("");
  let statusEl: HTMLSelectElement | undefined;
  let priorityEl: HTMLSelectElement | undefined;
  const id = () => props.ticket.id;
  const targets = () => desk.allowedTargets(props.ticket.status);
  /** Only supervisors and admins lower a risk level (outpost-core `settable_risks`). */
  const settable = (level: RiskLevel) => SETTABLE_RISKS[desk.me.user.role][props.ticket.risk].includes(level);
  const reopenable = () => props.ticket.status === "resolved" || props.ticket.status === "closed";
  /** The organisation's categories in use, and the ticket's own even when it was retired since. */
  const categories = () => {
    const offered = categoriesInUse();
    return offered.includes(props.ticket.category) ? offered : [props.ticket.category, ...offered];
  };

  const assignToMe = () => {
    if (props.ticket.assignee !== desk.me.user.id) {
      void props.onChange({ name: "ticket.set_assignee", args: { ticket_id: id(), assignee: desk.me.user.id } });
    }
  };
  props.api?.({ focusStatus: () => statusEl?.focus(), focusPriority: () => priorityEl?.focus(), assignToMe });

  const addTag = async () => {
    const value = tag().trim();
    if (!value) return;
    if (await props.onChange({ name: "ticket.add_tag", args: { ticket_id: id(), tag: value } })) setTag("");
  };

  return (
    <div class="controls" data-testid="ticket-controls">
      <label class="control">
        <span>{t("ticket.status")}</span>
        {/* Recreated when the status changes: WebKitGTK keeps showing the old label of a
            native select whose selected option only changed its text. */}
        <Show when={props.ticket.status} keyed>
          {(_status) => (
            <select
              ref={statusEl}
              data-testid="status-select"
              value={props.ticket.status}
              onChange={(e) => {
                const to = e.currentTarget.value as Status;
                e.currentTarget.value = props.ticket.status;
                if (to !== props.ticket.status) void props.onChange({ name: "ticket.set_status", args: { ticket_id: id(), status: to, reason: null } });
              }}
            >
              <option value={props.ticket.status}>{t(`status.${props.ticket.status}`)}</option>
              <For each={targets()}>
                {(target) => (
                  <option value={target} disabled={needsAssignee(target) && !props.ticket.assignee}>
                    {needsAssignee(target) && !props.ticket.assignee
                      ? t("ticket.status_needs_assignee", { status: t(`status.${target}`) })
                      : `→ ${t(`status.${target}`)}`}
                  </option>
                )}
              </For>
            </select>
          )}
        </Show>
      </label>
      <Show when={reopenable()}>
        <button
          type="button"
          data-testid="reopen"
          onClick={() => void props.onChange({ name: "ticket.reopen", args: { ticket_id: id(), reason: null } })}
        >
          {t("ticket.reopen")}
        </button>
      </Show>
      <label class="control">
        <span>{t("ticket.priority")}</span>
        <select
          ref={priorityEl}
          data-testid="priority-select"
          value={props.ticket.priority}
          onChange={(e) => void props.onChange({ name: "ticket.set_priority", args: { ticket_id: id(), priority: e.currentTarget.value as Priority } })}
        >
          <For each={PRIORITIES}>{(p) => <option value={p}>{`${p} · ${t(`priority.${p}`)}`}</option>}</For>
        </select>
      </label>
      <label class="control">
        <span>{t("ticket.category")}</span>
        <select
          data-testid="category-select"
          value={props.ticket.category}
          onChange={(e) => void props.onChange({ name: "ticket.set_category", args: { ticket_id: id(), category: e.currentTarget.value as Category } })}
        >
          <For each={categories()}>{(c) => <option value={c}>{categoryLabel(c)}</option>}</For>
        </select>
      </label>
      <label class="control">
        <span>{t("ticket.risk")}</span>
        <select
          data-testid="risk-select"
          value={props.ticket.risk}
          onChange={(e) => void props.onChange({ name: "ticket.set_risk", args: { ticket_id: id(), risk: e.currentTarget.value as RiskLevel } })}
        >
          <For each={RISKS}>
            {(r) => (
              <option value={r} disabled={!settable(r)} title={settable(r) ? undefined : t("ticket.riskLowerSupervisor")}>
                {t(`risk.${r}`)}
              </option>
            )}
          </For>
        </select>
      </label>
      <AssigneePicker
        ticket={props.ticket}
        onAssign={(assignee) => void props.onChange({ name: "ticket.set_assignee", args: { ticket_id: id(), assignee } })}
      />
      <Show when={props.ticket.assignee !== desk.me.user.id}>
        <button type="button" data-testid="assign-me" onClick={assignToMe}>
          {t("ticket.assign_me")}
        </button>
      </Show>
      <label class="control">
        <span>{t("ticket.department")}</span>
        <select
          data-testid="department-select"
          value={props.ticket.department ?? ""}
          onChange={(e) =>
            void props.onChange({ name: "ticket.set_department", args: { ticket_id: id(), department: e.currentTarget.value || null } })
          }
        >
          {/* A ticket in no department is one no agent sees: offered only to show where it is. */}
          <Show when={props.ticket.department === null}>
            <option value="">{t("common.none")}</option>
          </Show>
          <For each={desk.directory().departments.filter((d) => d.active || d.code === props.ticket.department)}>{(d) => <option value={d.code}>{d.name}</option>}</For>
        </select>
      </label>
      <div class="control tags" data-testid="tags">
        <span>{t("ticket.tags")}</span>
        <For each={props.ticket.tags}>
          {(x) => (
            <span class="tag">
              <span data-testid="customer-text">{x}</span>
              <button
                type="button"
                class="icon"
                aria-label={t("ticket.remove_tag", { tag: x })}
                onClick={() => void props.onChange({ name: "ticket.remove_tag", args: { ticket_id: id(), tag: x } })}
              >
                ×
              </button>
            </span>
          )}
        </For>
        <input
          class="tag-input"
          data-testid="tag-input"
          placeholder={t("ticket.add_tag")}
          aria-label={t("ticket.add_tag")}
          value={tag()}
          onInput={(e) => setTag(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void addTag();
            }
          }}
        />
      </div>
    </div>
  );
}
