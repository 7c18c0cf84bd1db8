import { Show } from "solid-js";
import { useDesk } from "../state/app";
import { t } from "../i18n";

/** Connectivity and unsent changes; opens the conflicts and sync-problems panel. */
export function SyncIndicator(props: { onOpen: () => void }) {
  const desk = useDesk();
  const state = () => desk.sync()?.connectivity.state ?? "starting";
  const unsent = () => desk.sync()?.unsent ?? 0;
  const issues = () => (desk.sync()?.conflicts ?? 0) + (desk.sync()?.problems ?? 0);
  const title = () => {
    const c = desk.sync()?.connectivity;
    if (c?.state === "offline") return t("sync.offline_detail");
    if (c?.state === "error") return c.sign_in_again ? t("sync.error_sign_in") : c.reason;
    return t("sync.open_panel");
  };
  return (
    <button type="button" class="sync-indicator" data-testid="sync-indicator" data-state={state()} title={title()} onClick={() => props.onOpen()}>
      <span class="dot" aria-hidden="true">
        ●
      </span>
      <span class="sync-label">{t(`sync.state.${state()}`)}</span>
      <span class="sep"> · </span>
      <span>
        {t("sync.unsent_prefix")}
        <span data-testid="unsent-count">{unsent()}</span>
        {t("sync.unsent_suffix")}
      </span>
      <Show when={issues() > 0}>
        <span class="chip warn" data-testid="sync-issues">
          {t("sync.issues", { count: issues() })}
        </span>
      </Show>
      <Show when={desk.sync()?.bootstrapping}>
        <span class="chip">{t("sync.bootstrapping")}</span>
      </Show>
    </button>
  );
}

/** The calm line shown while offline (offline is normal, not an error). */
export function OfflineLine() {
  const desk = useDesk();
  return (
    <Show when={desk.sync()?.connectivity.state === "offline"}>
      <div class="offline-line" role="status" data-testid="offline-line">
        {t("sync.offline_line")}
      </div>
    </Show>
  );
}
