import { createSignal, type JSX } from "solid-js";
import { render } from "@solidjs/testing-library";
import type { AttachmentProgress, ChangeNotice, DeskEvent, QueuePage, Settings, SyncStatus } from "../backend";
import { FakeBackend, recorded, recordedTickets, type FakeOptions } from "../backend/mock";
import { DeskCtx, type DeskContext } from "../state/app";

/** The fake backend signed in as the recorded agent. */
export function mockBackend(options: FakeOptions = {}): FakeBackend {
  return new FakeBackend({ signedIn: true, ...options });
}

/** The fake backend signed in as the recorded supervisor. */
export function supervisorBackend(options: FakeOptions = {}): FakeBackend {
  return mockBackend({ as: "supervisor", ...options });
}

/**
 * The fake on a first run: no profile on this machine yet, so the app shows the sign-in form
 * (with a profile, a signed-out start is the lock screen).
 */
export function firstRun(options: FakeOptions = {}): FakeBackend {
  const mock = new FakeBackend({ ...options, signedIn: false });
  const settings: Settings = { idle_lock_minutes: 15, theme: "system", language: "en" };
  return mock.on("app_start", { profile: null, me: null, keychain: options.keychain ?? "available", settings });
}

/** The recorded queue narrowed to the tickets whose detail was recorded, so every row opens. */
export function openableQueue(mock: FakeBackend): QueuePage {
  const tickets = recordedTickets();
  const page = recorded<QueuePage>("queue.all");
  page.rows = page.rows.filter((r) => tickets.has(r.id));
  page.next = null;
  mock.on("queue", page).on("queue_count", page.rows.length);
  return page;
}

/** The desk context App builds after sign-in, over `backend`. */
export async function deskContext(backend: FakeBackend): Promise<DeskContext & { emit: (e: DeskEvent) => void }> {
  const start = await backend.appStart();
  const me = start.me!;
  const [directory, templates, machine, status] = await Promise.all([
    backend.directory(),
    backend.templates(),
    backend.statusMachine(),
    backend.syncStatus(),
  ]);
  const [sync, setSync] = createSignal<SyncStatus | null>(status);
  const [settings, setSettings] = createSignal<Settings>(start.settings);
  const listeners = new Set<(n: ChangeNotice) => void>();
  const progressListeners = new Set<(p: AttachmentProgress) => void>();
  const targets = new Map(machine);
  const emit = (e: DeskEvent) => {
    if (e.kind === "status") setSync(e.status);
    if (e.kind === "changes") for (const fn of listeners) fn(e.notice);
    if (e.kind === "attachment_progress") for (const fn of progressListeners) fn(e.progress);
  };
  await backend.subscribe(emit);
  return {
    backend,
    me,
    sync,
    settings,
    saveSettings: async (s) => void setSettings(await backend.settingsSet(s)),
    directory: () => directory,
    templates: () => templates,
    allowedTargets: (s) => targets.get(s) ?? [],
    onChanges: (fn) => void listeners.add(fn),
    onAttachmentProgress: (fn) => void progressListeners.add(fn),
    lock: async () => backend.lock(),
    signOut: () => undefined,
    refreshSync: async () => void setSync(await backend.syncStatus()),
    alerts: () => [],
    dismissAlert: () => undefined,
    emit,
  };
}

export function renderInDesk(ctx: DeskContext, ui: () => JSX.Element) {
  return render(() => <DeskCtx.Provider value={ctx}>{ui()}</DeskCtx.Provider>);
}

/** happy-dom does no layout: give scroll containers a viewport so the virtualiser renders rows. */
export function stubViewport(height = 560, width = 400): () => void {
  const proto = HTMLElement.prototype;
  const h = Object.getOwnPropertyDescriptor(proto, "clientHeight");
  const w = Object.getOwnPropertyDescriptor(proto, "clientWidth");
  Object.defineProperty(proto, "clientHeight", {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains("queue-scroll") ? height : 0;
    },
  });
  Object.defineProperty(proto, "clientWidth", {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains("queue-scroll") ? width : 0;
    },
  });
  return () => {
    if (h) Object.defineProperty(proto, "clientHeight", h);
    if (w) Object.defineProperty(proto, "clientWidth", w);
  };
}

/** Polls until `fn` stops throwing, with a deadline (no fixed sleeps). */
export async function eventually<T>(fn: () => T, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
