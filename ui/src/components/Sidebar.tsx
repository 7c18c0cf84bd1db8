import { createSignal, For, onMount, Show } from "solid-js";
import type { QueueFilter } from "../backend";
import { useDesk } from "../state/app";
import { departmentFilter, type SavedView, type ViewId } from "../lib/views";
import { isAdmin, isSupervisor } from "../lib/roles";
import { t } from "../i18n";

export type Selection = { kind: "view"; id: ViewId } | { kind: "department"; name: string };

/** What the main area shows: the queue (with the ticket), or a supervisor screen. */
export type Screen = "queue" | "audit" | "reports" | "admin";

const REFRESH_DEBOUNCE_MS = 400;

/** Saved views and departments with live counts. */
export function Sidebar(props: {
  views: SavedView[];
  selection: Selection;
  onSelect: (s: Selection) => void;
  screen?: Screen;
  onScreen?: (screen: Screen) => void;
}) {
  const desk = useDesk();
  const [counts, setCounts] = createSignal<Record<string, number>>({});
  let timer: ReturnType<typeof setTimeout> | undefined;

  const targets = (): Array<[string, QueueFilter]> => [
    ...props.views.map((v): [string, QueueFilter] => [`view:${v.id}`, v.filter]),
    ...desk.directory().departments.map((d): [string, QueueFilter] => [`dep:${d.code}`, departmentFilter(d.code)]),
  ];

  const recount = async () => {
    const entries = await Promise.all(
      targets().map(async ([key, filter]) => [key, await desk.backend.queueCount(filter).catch(() => -1)] as const),
    );
    setCounts(Object.fromEntries(entries));
  };

  onMount(() => void recount());
  desk.onChanges(() => {
    clearTimeout(timer);
    timer = setTimeout(() => void recount(), REFRESH_DEBOUNCE_MS);
  });

  const count = (key: string) => {
    const n = counts()[key];
    return n === undefined || n < 0 ? "" : String(n);
  };
  const onQueue = () => (props.screen ?? "queue") === "queue";
  const isView = (id: ViewId) => onQueue() && props.selection.kind === "view" && props.selection.id === id;
  const isDep = (name: string) => onQueue() && props.selection.kind === "department" && props.selection.name === name;

  return (
    <nav class="sidebar" aria-label={t("views.title")}>
      <h4>{t("views.title")}</h4>
      <ul>
        <For each={props.views}>
          {(v) => (
            <li>
              <button
                type="button"
                class="nav-item"
                classList={{ active: isView(v.id) }}
                data-testid={`view-${v.id}`}
                aria-current={isView(v.id) ? "true" : undefined}
                onClick={() => props.onSelect({ kind: "view", id: v.id })}
              >
                <span>{t(`views.${v.id}`)}</span>
                <span class="count">{count(`view:${v.id}`)}</span>
              </button>
            </li>
          )}
        </For>
      </ul>
      <h4>{t("views.departments")}</h4>
      <ul>
        <For each={desk.directory().departments}>
          {(d) => (
            <li>
              <button
                type="button"
                class="nav-item"
                classList={{ active: isDep(d.code) }}
                data-testid={`department-${d.code}`}
                onClick={() => props.onSelect({ kind: "department", name: d.code })}
              >
                <span>{d.name}</span>
                <span class="count">{count(`dep:${d.code}`)}</span>
              </button>
            </li>
          )}
        </For>
      </ul>
      <Show when={isSupervisor(desk.me) && props.onScreen}>
        <h4>{t("nav.supervisor")}</h4>
        <ul>
          <For each={isAdmin(desk.me) ? (["audit", "reports", "admin"] as const) : (["audit", "reports"] as const)}>
            {(screen) => (
              <li>
                <button
                  type="button"
                  class="nav-item"
                  classList={{ active: props.screen === screen }}
                  data-testid={`nav-${screen}`}
                  aria-current={props.screen === screen ? "page" : undefined}
                  onClick={() => props.onScreen?.(screen)}
                >
                  <span>{t(`nav.${screen}`)}</span>
                </button>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </nav>
  );
}
