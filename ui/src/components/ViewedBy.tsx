// Who opened a sensitive ticket: the `ticket.view` events of the audit trail (supervisors only;
// the trail lives on the server, so offline this says so instead).
import { createResource, createSignal, For, Show } from "solid-js";
import { BackendError } from "../backend";
import { useDesk } from "../state/app";
import { actorLabel, emptyAuditQuery, parseDetail, shortDevice } from "../lib/audit";
import { formatTimestamp } from "../lib/time";
import { errorText } from "../lib/errors";
import { locale, t } from "../i18n";

export const VIEWED_BY_LIMIT = 50;

export function ViewedBy(props: { ticketId: string }) {
  const desk = useDesk();
  const [open, setOpen] = createSignal(true);
  const [views, { refetch }] = createResource(
    () => props.ticketId,
    (ticket_id) => desk.backend.auditPage({ ...emptyAuditQuery(), ticket_id, action: "ticket.view", limit: VIEWED_BY_LIMIT }),
  );
  const offline = () => views.error && BackendError.from(views.error).code === "offline";
  const fmt = (iso: string) => formatTimestamp(iso, locale());

  return (
    <details class="panel viewed-by" data-testid="viewed-by" open={open()} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <h3>{t("viewed.title")}</h3>
        <button type="button" class="link" data-testid="viewed-by-refresh" onClick={(e) => (e.preventDefault(), void refetch())}>
          {t("viewed.refresh")}
        </button>
      </summary>
      <Show
        when={!views.error}
        fallback={
          <p class={offline() ? "muted" : "error"} data-testid={offline() ? "viewed-by-offline" : "viewed-by-error"}>
            {offline() ? t("viewed.offline") : errorText(views.error)}
          </p>
        }
      >
        <Show when={views.latest} fallback={<p class="muted">{t("common.loading")}</p>}>
          {(page) => (
            <Show when={page().events.length} fallback={<p class="muted" data-testid="viewed-by-empty">{t("viewed.empty")}</p>}>
              <table class="report-table viewed-table">
                <thead>
                  <tr>
                    <th scope="col">{t("viewed.who")}</th>
                    <th scope="col">{t("viewed.when")}</th>
                    <th scope="col">{t("viewed.device")}</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={page().events}>
                    {(e) => (
                      <tr data-testid="viewed-by-row">
                        <td>{actorLabel(e.actor, desk.directory())}</td>
                        <td>
                          <time dateTime={parseDetail(e.detail).viewedAt ?? e.at}>{fmt(parseDetail(e.detail).viewedAt ?? e.at)}</time>
                        </td>
                        <td class="mono" title={e.device ?? undefined}>
                          {shortDevice(e.device)}
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
              <Show when={page().has_more}>
                <p class="muted">{t("viewed.more", { count: VIEWED_BY_LIMIT })}</p>
              </Show>
            </Show>
          )}
        </Show>
      </Show>
    </details>
  );
}
