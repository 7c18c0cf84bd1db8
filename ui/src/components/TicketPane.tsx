import { createEffect, createResource, createSignal, on, Show } from "solid-js";
import type { Entry, Mutation, TicketDetail } from "../backend";
import { departmentName, useDesk } from "../state/app";
import { errorText } from "../lib/errors";
import { categoryLabel } from "../lib/categories";
import { isSupervisor } from "../lib/roles";
import { rememberKeys } from "../lib/keys";
import { formatTimestamp } from "../lib/time";
import { locale, t } from "../i18n";
import { PriorityChip, RiskChip, StatusChip } from "./Chips";
import { SlaPanel } from "./SlaPanel";
import { L1Banner } from "./L1Banner";
import { Timeline } from "./Timeline";
import { Composer, type ComposerApi } from "./Composer";
import { TicketControls, type ControlsApi } from "./TicketControls";
import { Verification } from "./Verification";
import { ViewedBy } from "./ViewedBy";
import { ConfirmDialog } from "./Dialog";
import { DescriptionEditor, EditIcon, RequesterDialog, SubjectEditor } from "./TicketEdit";

export type TicketPaneApi = ComposerApi & ControlsApi;

/**
 * The open ticket. `asOf` (an audit event's time) marks the timeline at that moment: later
 * entries are de-emphasised until "back to now".
 */
export function TicketPane(props: { ticketId: string | null; asOf?: string | null; api?: (api: Partial<TicketPaneApi>) => void }) {
  const desk = useDesk();
  const supervisor = isSupervisor(desk.me);
  const [revoked, setRevoked] = createSignal(false);
  const [actionError, setActionError] = createSignal<string | null>(null);
  const [asOf, setAsOf] = createSignal<string | null>(props.asOf ?? null);
  const [redacting, setRedacting] = createSignal<Entry | null>(null);
  const [editingRequester, setEditingRequester] = createSignal(false);
  const [detail, { refetch, mutate }] = createResource(
    () => props.ticketId,
    (id) => desk.backend.ticket(id),
  );

  createEffect(
    on(
      () => [props.ticketId, props.asOf] as const,
      () => {
        setRevoked(false);
        setActionError(null);
        setRedacting(null);
        setEditingRequester(false);
        setAsOf(props.asOf ?? null);
      },
    ),
  );
  createEffect(() => {
    // Reading `latest` of a failed resource throws its error; the pane shows that error instead.
    if (detail.error) return;
    const d = detail.latest;
    if (d) rememberKeys([d.ticket]);
  });

  desk.onChanges((notice) => {
    const id = props.ticketId;
    if (!id) return;
    if (notice.revoked.includes(id)) {
      setRevoked(true);
      mutate(undefined);
    } else if (notice.everything || notice.tickets.includes(id)) {
      void refetch();
    }
  });

  const change = async (mutation: Mutation): Promise<boolean> => {
    setActionError(null);
    try {
      await desk.backend.change(mutation);
      await refetch();
      return true;
    } catch (e) {
      setActionError(errorText(e));
      return false;
    }
  };

  let composer: ComposerApi | undefined;
  let controls: ControlsApi | undefined;
  props.api?.({
    focus: (mode) => composer?.focus(mode),
    focusTemplates: () => composer?.focusTemplates(),
    focusStatus: () => controls?.focusStatus(),
    focusPriority: () => controls?.focusPriority(),
    assignToMe: () => controls?.assignToMe(),
  });

  const current = (): TicketDetail | undefined => (detail.error ? undefined : detail.latest);

  return (
    <section class="ticket-pane" data-testid="ticket-pane" aria-label={t("ticket.pane")} tabIndex={-1}>
      <Show when={props.ticketId} fallback={<p class="empty">{t("ticket.none_selected")}</p>}>
        <Show when={!revoked()} fallback={<p class="empty">{t("ticket.revoked")}</p>}>
          <Show when={!detail.error} fallback={<p class="error">{errorText(detail.error)}</p>}>
            <Show when={current()}>
              {(d) => (
                <div class="ticket" data-ticket-id={d().ticket.id}>
                  <header class="ticket-head">
                    <div class="ticket-title">
                      <span class="ticket-key" data-testid="ticket-key">
                        {d().ticket.key ?? t("ticket.unsynced_key")}
                      </span>
                      <SubjectEditor ticket={d().ticket} onChange={change} />
                    </div>
                    <div class="ticket-chips">
                      <PriorityChip priority={d().ticket.priority} />
                      <RiskChip risk={d().ticket.risk} />
                      <StatusChip status={d().ticket.status} testid="ticket-status" />
                      <span class="chip">{categoryLabel(d().ticket.category)}</span>
                      <Show when={d().ticket.department}>
                        {(dep) => (
                          <span class="chip" data-testid="ticket-department">
                            {departmentName(desk.directory(), dep())}
                          </span>
                        )}
                      </Show>
                      <Show when={d().unsent > 0}>
                        <span class="chip unsent" data-testid="ticket-unsent">
                          {t("ticket.unsent", { count: d().unsent })}
                        </span>
                      </Show>
                    </div>
                  </header>
                  <L1Banner clock={d().risk.l1} />
                  <Show when={asOf()}>
                    {(at) => (
                      <div class="as-of-banner" role="status" data-testid="as-of-banner">
                        <span>{t("asof.banner", { time: formatTimestamp(at(), locale()) })}</span>
                        <span aria-hidden="true"> — </span>
                        <button type="button" class="link" data-testid="as-of-back" onClick={() => setAsOf(null)}>
                          {t("asof.back")}
                        </button>
                      </div>
                    )}
                  </Show>
                  <Show when={actionError()}>
                    <p class="error" role="alert" data-testid="ticket-error">
                      {actionError()}
                    </p>
                  </Show>
                  <TicketControls ticket={d().ticket} onChange={change} api={(a) => (controls = a)} />
                  <div class="requester" data-testid="requester">
                    <span class="label">{t("ticket.requester")}</span>
                    <strong data-testid="customer-text">{d().ticket.requester.name}</strong>
                    <span> · {t(`tier.${d().ticket.requester.tier}`)}</span>
                    <span> · {t(`channel.${d().ticket.channel}`)}</span>
                    <span> · </span>
                    <span data-testid="customer-text">{d().ticket.requester.contact}</span>
                    <Show when={d().ticket.requester.account_id}>
                      {(acct) => (
                        <>
                          <span> · {t("ticket.account")} </span>
                          <span data-testid="customer-text">{acct()}</span>
                        </>
                      )}
                    </Show>
                    <span> · {t("ticket.language", { language: d().ticket.language })}</span>
                    <button
                      type="button"
                      class="icon edit-button"
                      data-testid="edit-requester"
                      aria-label={t("ticket.edit_requester")}
                      title={t("ticket.edit_requester")}
                      onClick={() => {
                        setActionError(null);
                        setEditingRequester(true);
                      }}
                    >
                      <EditIcon />
                    </button>
                  </div>
                  <SlaPanel sla={d().sla} />
                  <DescriptionEditor ticket={d().ticket} onChange={change} />
                  <Show when={supervisor && d().sensitive}>
                    <ViewedBy ticketId={d().ticket.id} />
                  </Show>
                  <Timeline entries={d().entries} directory={desk.directory()} asOf={asOf()} onRedact={supervisor ? setRedacting : undefined} />
                  <Verification ticket={d().ticket} panel={d().risk} onChange={change} />
                  <Composer ticket={d().ticket} onSent={() => void refetch()} onChange={change} api={(a) => (composer = a)} />
                  <Show when={editingRequester()}>
                    <RequesterDialog ticket={d().ticket} onChange={change} error={actionError()} onClose={() => setEditingRequester(false)} />
                  </Show>
                  <Show when={redacting()}>
                    {(entry) => <RedactDialog ticketId={d().ticket.id} entry={entry()} onChange={change} onClose={() => setRedacting(null)} />}
                  </Show>
                </div>
              )}
            </Show>
          </Show>
        </Show>
      </Show>
    </section>
  );
}

/** Asks for a reason and a confirmation, then sends `entry.redact`. */
function RedactDialog(props: { ticketId: string; entry: Entry; onChange: (m: Mutation) => Promise<boolean>; onClose: () => void }) {
  const [reason, setReason] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const confirm = async () => {
    const text = reason().trim();
    if (!text) {
      setError(t("redact.reason_required"));
      return;
    }
    setBusy(true);
    setError(null);
    const ok = await props.onChange({ name: "entry.redact", args: { ticket_id: props.ticketId, entry_id: props.entry.id, reason: text } });
    setBusy(false);
    if (ok) props.onClose();
    else setError(t("redact.failed"));
  };
  return (
    <ConfirmDialog
      title={t("redact.title")}
      message={t("redact.message")}
      confirmLabel={t("redact.confirm")}
      confirmTestid="redact-confirm"
      danger
      busy={busy()}
      error={error()}
      onCancel={props.onClose}
      onConfirm={() => void confirm()}
    >
      <label class="field">
        <span>{t("redact.reason")}</span>
        <textarea data-testid="redact-reason" rows={3} value={reason()} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
    </ConfirmDialog>
  );
}
