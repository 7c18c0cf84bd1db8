import { createResource, createSignal, For, Show } from "solid-js";
import { BackendError, type ConflictRecord, type JsonValue, type Mutation, type SyncProblem } from "../backend";
import { useDesk } from "../state/app";
import { errorText } from "../lib/errors";
import { formatDateTime } from "../lib/time";
import { isKey, locale, t } from "../i18n";
import { Dialog } from "./Dialog";

function showValue(value: JsonValue): string {
  if (value === null) return t("common.none");
  return typeof value === "string" ? value : JSON.stringify(value);
}

function mutationLabel(m: Mutation): string {
  const key = `mutation.${m.name}`;
  return isKey(key) ? t(key) : m.name;
}

/** Conflicts (the server kept another value) and sync problems (the server refused a change). */
export function ConflictsPanel(props: { onClose: () => void; onOpenTicket: (id: string) => void }) {
  const desk = useDesk();
  const [data, { refetch }] = createResource(async () => {
    const [conflicts, problems] = await Promise.all([desk.backend.conflicts(), desk.backend.syncProblems()]);
    return { conflicts, problems };
  });
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await Promise.all([refetch(), desk.refreshSync()]);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  // A refused admin edit names no ticket: it is redone on the settings screen, not re-applied.
  const actions = (id: number, ticketId: string | null) => (
    <div class="record-actions">
      <Show when={ticketId}>
        {(ticket) => (
          <>
            <button type="button" onClick={() => props.onOpenTicket(ticket())}>
              {t("conflicts.open_ticket")}
            </button>
            <button type="button" data-testid="reapply" disabled={busy()} onClick={() => void act(() => desk.backend.reapply(id))}>
              {t("conflicts.reapply")}
            </button>
          </>
        )}
      </Show>
      <button type="button" data-testid="dismiss" disabled={busy()} onClick={() => void act(() => desk.backend.dismiss(id))}>
        {t("conflicts.dismiss")}
      </button>
    </div>
  );

  return (
    <Dialog title={t("conflicts.title")} onClose={props.onClose} testid="conflicts-panel" wide>
      <div class="sync-summary">
        <span>{t(`sync.state.${desk.sync()?.connectivity.state ?? "starting"}`)}</span>
        <span> · {t("sync.unsent", { count: desk.sync()?.unsent ?? 0 })}</span>
        <button type="button" disabled={busy()} data-testid="sync-now" onClick={() => void act(() => desk.backend.syncNow())}>
          {t("sync.now")}
        </button>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={data()} fallback={<p class="muted">{t("common.loading")}</p>}>
        {(d) => (
          <>
            <h3>{t("conflicts.conflicts", { count: d().conflicts.length })}</h3>
            <Show when={d().conflicts.length} fallback={<p class="empty">{t("conflicts.no_conflicts")}</p>}>
              <ul class="records">
                <For each={d().conflicts}>
                  {(c: ConflictRecord) => (
                    <li class="record" data-testid="conflict-record" data-record={c.id}>
                      <p>
                        <strong>{mutationLabel(c.mutation)}</strong> · {t("conflicts.field", { field: c.field })}
                      </p>
                      <p>
                        {t("conflicts.yours")} <code data-testid="customer-text">{showValue(c.yours)}</code> · {t("conflicts.winner")}{" "}
                        <code data-testid="customer-text">{showValue(c.winner)}</code>
                      </p>
                      <p class="muted">
                        {t("conflicts.changed_by", {
                          who: c.changed_by ?? t("common.unknown"),
                          at: c.changed_at ? formatDateTime(c.changed_at, locale()) : "—",
                        })}
                      </p>
                      {actions(c.id, c.ticket_id)}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
            <h3>{t("conflicts.problems", { count: d().problems.length })}</h3>
            <Show when={d().problems.length} fallback={<p class="empty">{t("conflicts.no_problems")}</p>}>
              <ul class="records">
                <For each={d().problems}>
                  {(p: SyncProblem) => (
                    <li class="record" data-testid="problem-record" data-record={p.id}>
                      <p>
                        <strong>{mutationLabel(p.mutation)}</strong> ·{" "}
                        <span data-testid="problem-text">{errorText(new BackendError(p.code, p.reason))}</span>
                      </p>
                      <p class="muted" data-testid="problem-reason">
                        {p.reason}
                      </p>
                      <p class="muted">{t("conflicts.made_at", { at: formatDateTime(p.made_at, locale()), code: p.code })}</p>
                      {actions(p.id, p.ticket_id)}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </>
        )}
      </Show>
    </Dialog>
  );
}
