import { createEffect, createMemo, createSignal, lazy, on, onCleanup, Show, Suspense } from "solid-js";
import type { QueueSort } from "../backend";
import { useDesk } from "../state/app";
import { createQueue } from "../state/queue";
import { applyBar, departmentFilter, emptyBar, savedViews, VIEW_IDS, type FilterBar as Bar } from "../lib/views";
import { useClock } from "../lib/clock";
import { departmentLabel, t } from "../i18n";
import { Sidebar, type Screen, type Selection } from "./Sidebar";
import { isAdmin, isSupervisor } from "../lib/roles";
import { idFromReportName } from "../lib/keys";
import { errorText } from "../lib/errors";
import { FilterBar } from "./FilterBar";
import { QueueList, type QueueListApi } from "./QueueList";
import { TicketPane, type TicketPaneApi } from "./TicketPane";
import { SearchBox } from "./SearchBox";
import { OfflineLine, SyncIndicator } from "./SyncIndicator";
import { ConflictsPanel } from "./ConflictsPanel";
import { HelpOverlay } from "./HelpOverlay";
import { UserMenu } from "./UserMenu";
import { NewTicketDialog } from "./NewTicket";
import { Alerts } from "./Alerts";
import { SetupChecklist } from "./admin/Checklist";

const REFRESH_DEBOUNCE_MS = 150;

// Supervisor screens load on first use (the charting code comes with Reports).
const AuditScreen = lazy(() => import("./AuditScreen").then((m) => ({ default: m.AuditScreen })));
const ReportsScreen = lazy(() => import("./ReportsScreen").then((m) => ({ default: m.ReportsScreen })));
const AdminScreen = lazy(() => import("./admin/AdminScreen").then((m) => ({ default: m.AdminScreen })));

/** Typing in a field never triggers a shortcut. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

function inTicketPane(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest("[data-testid=ticket-pane]") !== null;
}

function isActivatable(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest("button, a, summary, [role=option]") !== null;
}

/** The three-pane desk: views, the queue, the ticket. */
export function Desk() {
  const desk = useDesk();
  useClock();
  const views = savedViews(desk.me);
  // The queue opens where the agent left it (per machine; a view or department name, no data).
  // First time on this machine: agents start on their own open tickets, supervisors and admins
  // on the whole queue they oversee.
  const [selection, setSelection] = createSignal<Selection>(
    loadSelection({ kind: "view", id: desk.me.user.role === "agent" ? "my_open" : "all" }),
  );
  createEffect(() => saveSelection(selection()));
  const [bar, setBar] = createSignal<Bar>(emptyBar());
  const [sort, setSort] = createSignal<QueueSort>("sla_due");
  const [selectedId, setSelectedId] = createSignal<string | null>(null);
  const [selectedIndex, setSelectedIndex] = createSignal(-1);
  const [help, setHelp] = createSignal(false);
  const [conflicts, setConflicts] = createSignal(false);
  const [creating, setCreating] = createSignal(false);
  const supervisor = isSupervisor(desk.me);
  const [screen, setScreenSignal] = createSignal<Screen>("queue");
  // A supervisor screen, once opened, stays mounted (hidden) so its filters and pages survive.
  const [opened, setOpened] = createSignal<ReadonlySet<Screen>>(new Set(["queue"]));
  const setScreen = (next: Screen) => {
    if (next !== "queue" && !supervisor) return;
    if (next === "admin" && !isAdmin(desk.me)) return;
    setOpened((s) => (s.has(next) ? s : new Set([...s, next])));
    setScreenSignal(next);
  };
  const [notice, setNotice] = createSignal<string | null>(null);
  // The admin area's tab the setup checklist asked for (a new object per click).
  const [adminRequest, setAdminRequest] = createSignal<{ tab: string } | null>(null);
  const queue = createQueue(desk.backend);
  let listApi: QueueListApi | undefined;
  let ticketApi: Partial<TicketPaneApi> = {};
  let searchInput: HTMLInputElement | undefined;

  const filter = createMemo(() => {
    const s = selection();
    const base = s.kind === "view" ? views.find((v) => v.id === s.id)!.filter : departmentFilter(s.name);
    return applyBar(base, bar());
  });

  createEffect(on([filter, sort], ([f, s]) => void queue.reset(f, s).then(() => listApi?.scrollToIndex(0))));

  // The shell logs when the queue first shows its rows (the start-up benchmark's marker).
  let startupMarked = false;
  createEffect(() => {
    if (!startupMarked && queue.ready() && (queue.total() === 0 || queue.row(0))) {
      startupMarked = true;
      void desk.backend.startupMark("queue-ready").catch(() => undefined);
    }
  });

  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  desk.onChanges(() => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void queue.refresh(), REFRESH_DEBOUNCE_MS);
  });
  onCleanup(() => clearTimeout(refreshTimer));

  const select = (id: string, index: number) => {
    setSelectedId(id);
    setSelectedIndex(index);
  };

  /** Opens a ticket in the queue screen (from search, alerts, conflicts, reports). */
  const openTicket = (id: string) => {
    setScreen("queue");
    select(id, queue.indexOf(id));
  };

  const openReportTicket = async (name: string) => {
    setNotice(null);
    const id = idFromReportName(name);
    try {
      openTicket(id ?? (await desk.backend.resolveKey(name)));
    } catch (e) {
      setNotice(errorText(e));
    }
  };

  const move = async (delta: number) => {
    const known = selectedId() ? queue.indexOf(selectedId()!) : -1;
    const from = known >= 0 ? known : selectedIndex();
    const next = Math.max(0, Math.min(queue.total() - 1, from + delta));
    if (next < 0 || next === from) return;
    listApi?.scrollToIndex(next);
    await queue.ensure(Math.max(0, next - 5), next + 5);
    const row = queue.row(next);
    if (row) select(row.id, next);
  };

  const nextView = () => {
    const s = selection();
    const i = s.kind === "view" ? views.findIndex((v) => v.id === s.id) : -1;
    setScreen("queue");
    setSelection({ kind: "view", id: views[(i + 1) % views.length]!.id });
  };

  let pendingG = false;
  let gTimer: ReturnType<typeof setTimeout> | undefined;
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || help() || conflicts() || creating()) return;
    if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    // On a supervisor screen only search, help and view switching apply.
    if (screen() !== "queue" && !["/", "?", "g", "v", "Escape"].includes(e.key)) return;
    if (pendingG) {
      pendingG = false;
      clearTimeout(gTimer);
      if (e.key === "v") {
        e.preventDefault();
        nextView();
        return;
      }
    }
    const ticketOpen = selectedId() !== null;
    const run = (fn: (() => void) | undefined) => {
      e.preventDefault();
      fn?.();
    };
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp":
        // Inside the open ticket the arrows scroll it, as everywhere else.
        if (inTicketPane(e.target)) return;
        return run(() => void move(e.key === "ArrowDown" ? 1 : -1));
      case "j":
        return run(() => void move(1));
      case "k":
        return run(() => void move(-1));
      case "Enter":
        // Enter on a focused button or link keeps its own meaning.
        if (ticketOpen && !isActivatable(e.target)) run(() => document.querySelector<HTMLElement>("[data-testid=ticket-pane]")?.focus());
        return;
      case "r":
        if (ticketOpen) run(() => ticketApi.focus?.("reply"));
        return;
      case "n":
        if (ticketOpen) run(() => ticketApi.focus?.("note"));
        return;
      case "t":
        if (ticketOpen) run(() => ticketApi.focusTemplates?.());
        return;
      case "s":
        if (ticketOpen) run(() => ticketApi.focusStatus?.());
        return;
      case "p":
        if (ticketOpen) run(() => ticketApi.focusPriority?.());
        return;
      case "a":
        if (ticketOpen) run(() => ticketApi.assignToMe?.());
        return;
      case "/":
        return run(() => searchInput?.focus());
      case "?":
        return run(() => setHelp(true));
      case "g":
        pendingG = true;
        gTimer = setTimeout(() => (pendingG = false), 1000);
        return;
      case "Escape":
        return run(() => (document.activeElement as HTMLElement | null)?.blur());
    }
  };
  document.addEventListener("keydown", onKey);
  onCleanup(() => {
    document.removeEventListener("keydown", onKey);
    clearTimeout(gTimer);
  });

  const emptyText = () => {
    const s = selection();
    return s.kind === "view" ? t(`views.empty.${s.id}`) : t("views.empty.department", { name: departmentLabel(s.name) });
  };

  return (
    <div class="desk" data-testid="desk">
      <header class="topbar">
        <SearchBox onOpen={openTicket} inputRef={(el) => (searchInput = el)} />
        <div class="topbar-right">
          <SyncIndicator onOpen={() => setConflicts(true)} />
          <button type="button" class="icon" aria-label={t("help.title")} title={t("help.title")} onClick={() => setHelp(true)}>
            ?
          </button>
          <UserMenu />
        </div>
      </header>
      <OfflineLine />
      <div class="panes">
        <Sidebar
          views={views}
          selection={selection()}
          onSelect={(s) => {
            setScreen("queue");
            setSelection(s);
            setBar(emptyBar());
          }}
          screen={screen()}
          onScreen={supervisor ? setScreen : undefined}
        />
        <Show when={supervisor && opened().has("audit")}>
          <div class="screen-slot" classList={{ "is-hidden": screen() !== "audit" }}>
            <Suspense fallback={<p class="muted">{t("common.loading")}</p>}>
              <AuditScreen />
            </Suspense>
          </div>
        </Show>
        <Show when={supervisor && opened().has("reports")}>
          <div class="screen-slot" classList={{ "is-hidden": screen() !== "reports" }}>
            <Suspense fallback={<p class="muted">{t("common.loading")}</p>}>
              <ReportsScreen onOpenTicket={(name) => void openReportTicket(name)} active={screen() === "reports"} />
            </Suspense>
          </div>
        </Show>
        <Show when={isAdmin(desk.me) && opened().has("admin")}>
          <div class="screen-slot" classList={{ "is-hidden": screen() !== "admin" }}>
            <Suspense fallback={<p class="muted">{t("common.loading")}</p>}>
              <AdminScreen open={adminRequest()} />
            </Suspense>
          </div>
        </Show>
        <main class="queue-pane" classList={{ "is-hidden": screen() !== "queue" }}>
          <SetupChecklist
            onOpen={(tab) => {
              setAdminRequest({ tab });
              setScreen("admin");
            }}
          />
          <FilterBar bar={bar()} sort={sort()} onBar={setBar} onSort={setSort} />
          <div class="queue-head">
            <span data-testid="queue-total">{t("queue.total", { count: queue.total() })}</span>
            <button type="button" class="link new-ticket-button" data-testid="new-ticket-open" onClick={() => setCreating(true)}>
              + {t("newticket.open")}
            </button>
            <Show when={queue.error()}>
              <span class="error">{queue.error()}</span>
            </Show>
          </div>
          <QueueList queue={queue} selectedId={selectedId()} onSelect={select} emptyText={emptyText()} api={(a) => (listApi = a)} />
        </main>
        <div class="ticket-slot" classList={{ "is-hidden": screen() !== "queue" }}>
          <TicketPane ticketId={selectedId()} api={(a) => (ticketApi = a)} />
        </div>
      </div>
      <Show when={notice()}>
        {(text) => (
          <div class="toast" role="alert" data-testid="desk-notice">
            <span>{text()}</span>
            <button type="button" class="icon" aria-label={t("common.close")} onClick={() => setNotice(null)}>
              ×
            </button>
          </div>
        )}
      </Show>
      <Alerts onOpenTicket={openTicket} onOpenConflicts={() => setConflicts(true)} />
      <Show when={help()}>
        <HelpOverlay onClose={() => setHelp(false)} />
      </Show>
      <Show when={creating()}>
        <NewTicketDialog
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            openTicket(id);
          }}
        />
      </Show>
      <Show when={conflicts()}>
        <ConflictsPanel
          onClose={() => setConflicts(false)}
          onOpenTicket={(id) => {
            setConflicts(false);
            openTicket(id);
          }}
        />
      </Show>
    </div>
  );
}

const SELECTION_KEY = "outpost.selection";

function loadSelection(fallback: Selection): Selection {
  try {
    const saved = JSON.parse(localStorage.getItem(SELECTION_KEY) ?? "null") as Selection | null;
    if (saved?.kind === "view" && VIEW_IDS.includes(saved.id)) return { kind: "view", id: saved.id };
    if (saved?.kind === "department" && typeof saved.name === "string") return { kind: "department", name: saved.name };
  } catch {
    // Unreadable or no storage: the default view.
  }
  return fallback;
}

function saveSelection(selection: Selection): void {
  try {
    localStorage.setItem(SELECTION_KEY, JSON.stringify(selection));
  } catch {
    // Storage unavailable: the next start opens the default view.
  }
}
