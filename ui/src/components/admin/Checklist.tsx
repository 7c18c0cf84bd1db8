// The first admin's setup checklist. Each item links to its screen and is ticked from the data
// the cache holds (a settings document changed from the product default, people invited,
// templates written), never from a click; it shows on the admin's start until every item is
// done or the admin dismisses it (per machine and person).
import { createResource, createSignal, For, Show } from "solid-js";
import type { OrgSettingsView, User } from "../../backend";
import { useDesk } from "../../state/app";
import { errorText } from "../../lib/errors";
import { t } from "../../i18n";
import { CopyText } from "./Users";

/** The admin screens the checklist opens (tab ids of the admin area). */
export type ChecklistTarget = "calendar" | "departments" | "users" | "templates" | "organisation";

export type ChecklistItem = { id: "hours" | "departments" | "invite" | "templates" | "form"; target: ChecklistTarget; done: boolean };

/**
 * What is done, from data: business hours and the customer form are done once their settings
 * document has a version past the product default (0); departments once every active one has an
 * active agent or supervisor to answer its tickets; teammates once someone besides the first
 * admin exists; templates once an active one exists.
 */
export function checklistItems(view: OrgSettingsView, users: User[]): ChecklistItem[] {
  const active = users.filter((u) => u.active);
  const departments = view.departments.filter((d) => d.active);
  const staffed = (code: string) => active.some((u) => u.role !== "admin" && u.departments.includes(code));
  return [
    { id: "hours", target: "calendar", done: view.settings.sla.version > 0 },
    { id: "departments", target: "departments", done: departments.length > 0 && departments.every((d) => staffed(d.code)) },
    { id: "invite", target: "users", done: active.length > 1 },
    { id: "templates", target: "templates", done: view.templates.some((tpl) => tpl.active) },
    { id: "form", target: "organisation", done: view.settings.organisation.version > 0 },
  ];
}

/** The customer form's address on the organisation's server. */
export function customerFormLink(server: string): string {
  return `${server.replace(/\/+$/, "")}/c/new`;
}

function dismissKey(server: string, userId: string): string {
  return `outpost.checklist.dismissed:${server}:${userId}`;
}

function loadDismissed(key: string): boolean {
  try {
    return localStorage.getItem(key) === "1";
  } catch {
    return false;
  }
}

/** The checklist card; renders nothing for non-admins, when dismissed, or when all is done. */
export function SetupChecklist(props: { onOpen: (target: ChecklistTarget) => void }) {
  const desk = useDesk();
  const admin = desk.me.user.role === "admin";
  const key = dismissKey(desk.me.server, desk.me.user.id);
  const [dismissed, setDismissed] = createSignal(loadDismissed(key));
  const [data, { refetch }] = createResource(
    () => admin && !dismissed(),
    async () => {
      const [view, directory] = await Promise.all([desk.backend.orgSettings(), desk.backend.directory()]);
      return checklistItems(view, directory.users);
    },
  );
  desk.onChanges(() => {
    if (admin && !dismissed()) void refetch();
  });

  const dismiss = () => {
    setDismissed(true);
    try {
      localStorage.setItem(key, "1");
    } catch {
      // No storage: dismissed for this session only.
    }
  };
  const items = () => (data.error ? null : data.latest);
  const doneCount = () => items()?.filter((i) => i.done).length ?? 0;

  return (
    <Show when={admin && !dismissed()}>
      <Show when={data.error}>
        <p class="error" data-testid="checklist-error">
          {errorText(data.error)}
        </p>
      </Show>
      <Show when={items()?.some((i) => !i.done) && items()}>
        {(list) => (
          <section class="checklist-card" data-testid="setup-checklist" aria-label={t("checklist.title")}>
            <header class="admin-section-head">
              <h3>{t("checklist.title")}</h3>
              <span class="muted" data-testid="checklist-progress">
                {t("checklist.progress", { done: doneCount(), total: list().length })}
              </span>
              <button type="button" class="link" data-testid="checklist-dismiss" onClick={dismiss}>
                {t("checklist.dismiss")}
              </button>
            </header>
            <ol class="setup-items">
              <For each={list()}>
                {(item) => (
                  <li class="setup-item" data-testid={`checklist-${item.id}`} data-done={String(item.done)}>
                    <span class="setup-tick" aria-hidden="true">
                      <Show when={item.done} fallback={<svg viewBox="0 0 16 16" width="14" height="14"><circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.4" /></svg>}>
                        <svg viewBox="0 0 16 16" width="14" height="14">
                          <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
                        </svg>
                      </Show>
                    </span>
                    <span class="visually-hidden">{item.done ? t("checklist.done") : t("checklist.todo")}</span>
                    <div class="setup-text">
                      <button type="button" class="link" data-testid={`checklist-open-${item.id}`} onClick={() => props.onOpen(item.target)}>
                        {t(`checklist.item.${item.id}`)}
                      </button>
                      <span class="muted">{t(`checklist.hint.${item.id}`)}</span>
                      <Show when={item.id === "form"}>
                        <CopyText label={t("checklist.form_link")} value={customerFormLink(desk.me.server)} testid="checklist-form-link" />
                      </Show>
                    </div>
                  </li>
                )}
              </For>
            </ol>
          </section>
        )}
      </Show>
    </Show>
  );
}
