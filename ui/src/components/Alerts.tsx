import { For } from "solid-js";
import type { Alert } from "../backend";
import { useDesk } from "../state/app";
import { t } from "../i18n";

function title(alert: Alert): string {
  switch (alert.kind) {
    case "new_p1":
      return t("alert.new_p1");
    case "sla_at_risk":
      return t("alert.sla_at_risk");
    case "sla_breached":
      return t("alert.sla_breached");
    case "conflict":
      return t("alert.conflict", { count: alert.count });
  }
}

/** The shell's alerts inside the app; clicking one opens its ticket (or the conflicts panel). */
export function Alerts(props: { onOpenTicket: (id: string) => void; onOpenConflicts: () => void }) {
  const desk = useDesk();
  const open = (alert: Alert) => {
    desk.dismissAlert(alert);
    if (alert.kind === "conflict") props.onOpenConflicts();
    else props.onOpenTicket(alert.ticket_id);
  };
  return (
    <div class="alerts" aria-live="polite">
      <For each={desk.alerts()}>
        {(alert) => (
          <div class="alert" data-testid="alert" data-kind={alert.kind}>
            <button type="button" class="alert-body" onClick={() => open(alert)}>
              <strong>{title(alert)}</strong>
              {alert.kind !== "conflict" ? (
                <span>
                  {alert.key ? `${alert.key} · ` : ""}
                  <span data-testid="customer-text">{alert.subject}</span>
                </span>
              ) : null}
            </button>
            <button type="button" class="icon" aria-label={t("common.close")} onClick={() => desk.dismissAlert(alert)}>
              ×
            </button>
          </div>
        )}
      </For>
    </div>
  );
}
