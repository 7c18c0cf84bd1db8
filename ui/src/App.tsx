import { createSignal, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import {
  BackendError,
  type Alert,
  type AttachmentProgress,
  type Backend,
  type ChangeNotice,
  type DeskEvent,
  type Directory,
  type KeychainState,
  type Me,
  type ProfileInfo,
  type Settings,
  type Status,
  type SyncStatus,
  type Template,
} from "./backend";
import { DeskCtx, type DeskContext } from "./state/app";
import { errorText } from "./lib/errors";
import { setLang, t } from "./i18n";
import { loadCatalogue } from "./lib/categories";
import { SignIn } from "./components/SignIn";
import { LockScreen } from "./components/LockScreen";
import { Desk } from "./components/Desk";
import { ConfirmDialog } from "./components/Dialog";

/** The shell is told about user activity at most this often (it runs the idle lock). */
export const ACTIVITY_INTERVAL_MS = 30_000;
const MAX_ALERTS = 3;

type Phase =
  | { kind: "starting" }
  | { kind: "fatal"; message: string }
  | { kind: "signin" }
  | { kind: "locked" }
  | { kind: "desk"; ctx: DeskContext };

const DEFAULT_SETTINGS: Settings = { idle_lock_minutes: 15, theme: "system", language: "en" };

export function applySettings(settings: Settings): void {
  setLang(settings.language);
  const root = document.documentElement;
  if (settings.theme === "system") delete root.dataset.theme;
  else root.dataset.theme = settings.theme;
}

export function App(props: { backend: Backend }) {
  const backend = props.backend;
  const [phase, setPhase] = createSignal<Phase>({ kind: "starting" });
  const [profile, setProfile] = createSignal<ProfileInfo | null>(null);
  const [keychain, setKeychain] = createSignal<KeychainState>("available");
  const [settings, setSettings] = createSignal<Settings>(DEFAULT_SETTINGS);
  const [sync, setSync] = createSignal<SyncStatus | null>(null);
  const [signOutAsk, setSignOutAsk] = createSignal<{ unsent: number } | null>(null);
  const [signOutError, setSignOutError] = createSignal<string | null>(null);
  const [notice, setNotice] = createSignal<string | null>(null);
  const [alerts, setAlerts] = createSignal<Alert[]>([]);
  const changeListeners = new Set<(notice: ChangeNotice) => void>();
  const progressListeners = new Set<(progress: AttachmentProgress) => void>();
  let subscribed = false;

  /** Re-reads users, departments and templates (set once the desk is entered). */
  let reloadReference: () => Promise<void> = async () => {};

  const onEvent = (event: DeskEvent) => {
    switch (event.kind) {
      case "status": {
        const wasLoading = sync()?.bootstrapping ?? false;
        setSync(event.status);
        if (wasLoading && !event.status.bootstrapping) void reloadReference();
        break;
      }
      case "changes":
        if (phase().kind === "desk") for (const fn of [...changeListeners]) fn(event.notice);
        if (event.notice.everything || event.notice.reference) void reloadReference();
        break;
      case "alert":
        // The shell also raises a system notification; in the app the newest few stay visible.
        if (phase().kind === "desk") setAlerts((list) => [event.alert, ...list].slice(0, MAX_ALERTS));
        break;
      case "attachment_progress":
        if (phase().kind === "desk") for (const fn of [...progressListeners]) fn(event.progress);
        break;
      case "locked":
        if (phase().kind === "desk") {
          setAlerts([]);
          setPhase({ kind: "locked" });
        }
        break;
    }
  };

  const subscribe = async () => {
    if (subscribed) return;
    try {
      await backend.subscribe(onEvent);
      subscribed = true;
    } catch {
      // Retried on the next sign-in or unlock; the status is polled on demand meanwhile.
    }
  };

  const saveSettings = async (next: Settings) => {
    applySettings(next);
    setSettings(next);
    try {
      const saved = await backend.settingsSet(next);
      applySettings(saved);
      setSettings(saved);
    } catch {
      // Kept for this session; the shell keeps its own copy.
    }
  };

  const refreshSync = async () => {
    try {
      setSync(await backend.syncStatus());
    } catch {
      // The next status event brings it.
    }
  };

  const enterDesk = async (me: Me) => {
    await subscribe();
    const [firstDirectory, firstTemplates, machine] = await Promise.all([
      backend.directory().catch((): Directory => ({ users: [me.user], departments: me.user.departments.map((code) => ({ code, name: code, active: true })) })),
      backend.templates().catch((): Template[] => []),
      backend.statusMachine().catch((): Array<[Status, Status[]]> => []),
      refreshSync(),
    ]);
    // Users, departments and templates arrive with the initial sync (and change rarely): read
    // them again when the whole cache changed.
    const [directory, setDirectory] = createSignal(firstDirectory);
    const [templates, setTemplates] = createSignal(firstTemplates);
    void loadCatalogue(backend);
    reloadReference = async () => {
      void loadCatalogue(backend);
      const [d, tpl] = await Promise.all([backend.directory().catch(() => null), backend.templates().catch(() => null)]);
      if (d) setDirectory(d);
      if (tpl) setTemplates(tpl);
    };
    const targets = new Map(machine);
    const ctx: DeskContext = {
      backend,
      me,
      sync,
      settings,
      saveSettings,
      directory,
      templates,
      allowedTargets: (status) => targets.get(status) ?? [],
      onChanges: (fn) => {
        changeListeners.add(fn);
        onCleanup(() => changeListeners.delete(fn));
      },
      onAttachmentProgress: (fn) => {
        progressListeners.add(fn);
        onCleanup(() => progressListeners.delete(fn));
      },
      lock: async () => {
        try {
          await backend.lock();
        } finally {
          setPhase({ kind: "locked" });
        }
      },
      signOut: () => void signOut(false),
      refreshSync,
      alerts,
      dismissAlert: (alert) => setAlerts((list) => list.filter((a) => a !== alert)),
    };
    setPhase({ kind: "desk", ctx });
  };

  const signOut = async (discardUnsent: boolean) => {
    setSignOutError(null);
    try {
      await backend.signOut(discardUnsent);
      setSignOutAsk(null);
      setProfile((p) => (p ? { ...p, mode: null } : p));
      setPhase({ kind: "signin" });
    } catch (raw) {
      const e = BackendError.from(raw);
      if (e.code === "unsent_changes" && !discardUnsent) {
        await refreshSync();
        setSignOutAsk({ unsent: sync()?.unsent ?? 0 });
      } else if (signOutAsk()) {
        setSignOutError(errorText(e));
      } else {
        setSignOutAsk(null);
        setNotice(errorText(e));
      }
    }
  };

  onMount(async () => {
    try {
      const info = await backend.appStart();
      applySettings(info.settings);
      setSettings(info.settings);
      setProfile(info.profile);
      setKeychain(info.keychain);
      if (info.me) await enterDesk(info.me);
      else setPhase({ kind: info.profile?.mode ? "locked" : "signin" });
    } catch (e) {
      setPhase({ kind: "fatal", message: errorText(e) });
    }
  });

  // The shell locks after idle time; it learns of activity from here, throttled.
  let lastActivity = Number.NEGATIVE_INFINITY;
  const onActivity = () => {
    if (phase().kind !== "desk") return;
    const nowMs = Date.now();
    if (nowMs - lastActivity < ACTIVITY_INTERVAL_MS) return;
    lastActivity = nowMs;
    backend.activity().catch(() => undefined);
  };
  document.addEventListener("keydown", onActivity, true);
  document.addEventListener("pointerdown", onActivity, true);
  onCleanup(() => {
    document.removeEventListener("keydown", onActivity, true);
    document.removeEventListener("pointerdown", onActivity, true);
  });

  return (
    <>
      <Switch>
        <Match when={phase().kind === "starting"}>
          <div class="center-screen">
            <p class="muted">{t("app.starting")}</p>
          </div>
        </Match>
        <Match when={phase().kind === "fatal" && (phase() as { message: string })}>
          {(p) => (
            <div class="center-screen">
              <div class="card">
                <h1>{t("app.name")}</h1>
                <p class="error" role="alert">
                  {t("app.start_failed", { reason: p().message })}
                </p>
              </div>
            </div>
          )}
        </Match>
        <Match when={phase().kind === "signin"}>
          <SignIn
            backend={backend}
            profile={profile()}
            keychain={keychain()}
            onSignedIn={(me, usedPassphrase) => {
              setProfile({ server: me.server, email: me.user.email, mode: usedPassphrase ? "passphrase" : "keychain" });
              void enterDesk(me);
            }}
          />
        </Match>
        <Match when={phase().kind === "locked"}>
          <LockScreen backend={backend} profile={profile()} onUnlocked={(me) => void enterDesk(me)} onSignOut={() => void signOut(false)} />
        </Match>
        <Match when={phase().kind === "desk" && (phase() as { ctx: DeskContext })} keyed>
          {(p) => (
            <DeskCtx.Provider value={p.ctx}>
              <Desk />
            </DeskCtx.Provider>
          )}
        </Match>
      </Switch>
      <Show when={notice()}>
        {(text) => (
          <div class="toast" role="alert" data-testid="app-notice">
            <span>{text()}</span>
            <button type="button" class="icon" aria-label={t("common.close")} onClick={() => setNotice(null)}>
              ×
            </button>
          </div>
        )}
      </Show>
      <Show when={signOutAsk()}>
        {(ask) => (
          <ConfirmDialog
            title={t("session.sign_out")}
            message={t("session.unsent_lost", { count: ask().unsent })}
            confirmLabel={t("session.sign_out_anyway")}
            danger
            error={signOutError()}
            onCancel={() => setSignOutAsk(null)}
            onConfirm={() => void signOut(true)}
          />
        )}
      </Show>
    </>
  );
}
