// The admin area: the organisation's settings, one tab per screen (`tabs.ts`). Only admins reach
// it (the sidebar shows no entry to others, and the Desk refuses their changes anyway). Settings
// are read from the cache, so the screens work offline; edits queue like any change.
import { createEffect, createSignal, For, on, Show, Suspense } from "solid-js";
import { Dynamic } from "solid-js/web";
import { t } from "../../i18n";
import { AdminCtx, createAdminState } from "./state";
import { ADMIN_TABS } from "./tabs";
import "./admin.css";

/** `open` asks for a tab from outside (the setup checklist); each new request switches to it. */
export function AdminScreen(props: { initialTab?: string; open?: { tab: string } | null }) {
  const [tab, setTabSignal] = createSignal(props.open?.tab ?? props.initialTab ?? ADMIN_TABS[0]?.id ?? "");
  // A tab, once opened, stays mounted (hidden) so an unsaved edit survives a look elsewhere.
  const [opened, setOpened] = createSignal<ReadonlySet<string>>(new Set([tab()]));
  const setTab = (id: string) => {
    if (!ADMIN_TABS.some((x) => x.id === id)) return;
    setOpened((s) => (s.has(id) ? s : new Set([...s, id])));
    setTabSignal(id);
  };
  const admin = createAdminState(setTab);
  createEffect(on(() => props.open, (request) => request && setTab(request.tab), { defer: true }));
  return (
    <AdminCtx.Provider value={admin}>
      <section class="screen admin-screen" data-testid="admin-screen">
        <header class="screen-head">
          <h2>{t("admin.title")}</h2>
        </header>
        <nav class="admin-tabs" role="tablist" aria-label={t("admin.title")}>
          <For each={ADMIN_TABS}>
            {(x) => (
              <button
                type="button"
                role="tab"
                class="admin-tab"
                classList={{ active: tab() === x.id }}
                aria-selected={tab() === x.id}
                data-testid={`admin-tab-${x.id}`}
                onClick={() => setTab(x.id)}
              >
                {t(x.label)}
              </button>
            )}
          </For>
        </nav>
        <Show when={admin.loadError()}>
          <p class="error" role="alert" data-testid="admin-load-error">
            {admin.loadError()}
          </p>
        </Show>
        <div class="admin-body">
          <For each={ADMIN_TABS}>
            {(x) => (
              <Show when={opened().has(x.id)}>
                <div classList={{ "is-hidden": tab() !== x.id }} data-testid={`admin-panel-${x.id}`}>
                  <Suspense fallback={<p class="muted">{t("common.loading")}</p>}>
                    <Dynamic component={x.component} />
                  </Suspense>
                </div>
              </Show>
            )}
          </For>
        </div>
      </section>
    </AdminCtx.Provider>
  );
}
