// What the admin screens share: the organisation's settings as the cache holds them (read
// offline too), the commands that change them, and how a save reports back (saving, saved,
// queued until the server is reached, refused with the Desk's reason).
import { createContext, createEffect, createSignal, getOwner, on, runWithOwner, Show, untrack, useContext, type Accessor, type JSX, type Owner } from "solid-js";
import { createStore, produce, reconcile, unwrap } from "solid-js/store";
import { BackendError, type Backend } from "../../backend";
import { errorText } from "../../lib/errors";
import { formatDateTime } from "../../lib/time";
import { setCategoriesFrom } from "../../lib/categories";
import { locale, t } from "../../i18n";
import { userName, useDesk } from "../../state/app";
import type { AdminTemplate, Department, OrgSettingsView, SettingsDoc, SettingsKind } from "./model";

export type AdminState = {
  backend: Backend;
  /** The last answer of `orgSettings`; null until the first one. */
  view: Accessor<OrgSettingsView | null>;
  loadError: Accessor<string | null>;
  reload: () => Promise<void>;
  /** Shows the view a change answered with (the cache after the change was queued). */
  setView: (view: OrgSettingsView) => void;
  /** Shows another tab of the admin area (by its `tabs.ts` id). */
  openTab: (id: string) => void;
  /** One editor per settings document, shared by the tabs that edit it (SLA policies and business hours). */
  editors: Map<SettingsKind, SettingsEditor>;
  owner: Owner | null;
};

export const AdminCtx = createContext<AdminState>();

export function useAdmin(): AdminState {
  const ctx = useContext(AdminCtx);
  if (!ctx) throw new Error("useAdmin outside the admin area");
  return ctx;
}

/** Loads the settings and reloads them whenever the Desk says reference data changed. */
export function createAdminState(openTab: (id: string) => void = () => undefined): AdminState {
  const desk = useDesk();
  const [view, setViewSignal] = createSignal<OrgSettingsView | null>(null);
  // The whole desk names and offers categories as the latest view lists them.
  const setView = (v: OrgSettingsView) => {
    setViewSignal(v);
    setCategoriesFrom(v);
  };
  const [loadError, setLoadError] = createSignal<string | null>(null);
  const reload = async () => {
    try {
      setView(await desk.backend.orgSettings());
      setLoadError(null);
    } catch (e) {
      setLoadError(errorText(e));
    }
  };
  desk.onChanges((notice) => {
    if (notice.reference || notice.everything) void reload();
  });
  void reload();
  return { backend: desk.backend, view, loadError, reload, setView: (v) => void setView(v), openTab, editors: new Map(), owner: getOwner() };
}

export type SaveState =
  | { kind: "idle" }
  | { kind: "saving" }
  | { kind: "saved" }
  | { kind: "refused"; code: string; text: string };

/** Runs a save and keeps its outcome for the status line. */
export function createSaver() {
  const [state, setState] = createSignal<SaveState>({ kind: "idle" });
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setState({ kind: "saving" });
    try {
      await fn();
      setState({ kind: "saved" });
      return true;
    } catch (raw) {
      const e = BackendError.from(raw);
      setState({ kind: "refused", code: e.code, text: errorText(e) });
      return false;
    }
  };
  return { state, run, clear: () => setState({ kind: "idle" }) };
}

/**
 * An editable copy of one settings document. It follows the cache while untouched; once edited
 * it stays as the admin left it until saved or reloaded, and the save names the version the
 * edit was made on (so an edit over someone else's newer version is refused, never merged).
 */
export function useSettingsEditor<T extends SettingsDoc>(kind: T["kind"]): EditorOf<T> {
  const admin = useAdmin();
  let editor = admin.editors.get(kind);
  if (!editor) {
    // Owned by the admin area, not by the tab that asked first.
    editor = runWithOwner(admin.owner, () => createSettingsEditor<T>(admin, kind)) as unknown as SettingsEditor;
    admin.editors.set(kind, editor);
  }
  return editor as unknown as EditorOf<T>;
}

function createSettingsEditor<T extends SettingsDoc>(admin: AdminState, kind: T["kind"]) {
  const current = () => admin.view()?.settings[kind] ?? null;
  const [store, setStore] = createStore<{ doc: T["doc"] | null }>({ doc: null });
  const [base, setBase] = createSignal<number | null>(null);
  const [dirty, setDirty] = createSignal(false);
  const saver = createSaver();

  const reset = () => {
    const c = current();
    if (!c) return;
    setStore("doc", reconcile(structuredClone(c.settings.doc) as T["doc"]));
    setBase(c.version);
    setDirty(false);
  };
  createEffect(on(current, () => untrack(dirty) || reset()));

  /** Changes the draft in place. */
  const edit = (fn: (doc: T["doc"]) => void) => {
    setStore(produce((s) => fn(s.doc as T["doc"])));
    setDirty(true);
    if (saver.state().kind !== "saving") saver.clear();
  };

  const save = async () => {
    const version = base();
    if (store.doc === null || version === null) return;
    const settings = { kind, doc: structuredClone(unwrap(store.doc)) } as SettingsDoc;
    const ok = await saver.run(async () => admin.setView(await admin.backend.changeSettings(version, settings)));
    if (ok) reset();
  };

  const reloadNow = async () => {
    await admin.reload();
    reset();
    saver.clear();
  };

  return {
    doc: () => store.doc,
    edit,
    save,
    reload: reloadNow,
    dirty,
    saver,
    current,
    pending: () => admin.view()?.pending.includes(kind) ?? false,
  };
}

type EditorOf<T extends SettingsDoc> = ReturnType<typeof createSettingsEditor<T>>;
export type SettingsEditor = EditorOf<SettingsDoc>;

/** Saves a department or template (whole record, no version: the last write wins). */
export async function putDepartment(admin: AdminState, department: Department): Promise<void> {
  admin.setView(await admin.backend.putDepartment(department));
}

export async function putTemplate(admin: AdminState, template: AdminTemplate): Promise<void> {
  admin.setView(await admin.backend.putTemplate(template));
}

/** The line under a form: saving, saved (or queued), or the refusal with what to do next. */
export function SaveStatus(props: { state: SaveState; pending?: boolean; onReload?: () => void; testid?: string }) {
  const id = props.testid ?? "admin-save-status";
  return (
    <>
      <Show when={props.state.kind === "saving"}>
        <span class="muted" data-testid={id} data-state="saving">
          {t("admin.saving")}
        </span>
      </Show>
      <Show when={props.state.kind === "saved"}>
        <span class="admin-ok" data-testid={id} data-state={props.pending ? "pending" : "saved"}>
          {props.pending ? t("admin.saved_pending") : t("admin.saved")}
        </span>
      </Show>
      <Show when={props.state.kind === "refused" && props.state}>
        {(s) => (
          <span class="error" role="alert" data-testid={id} data-state="refused" data-code={(s() as { code: string }).code}>
            <Show when={(s() as { code: string }).code === "conflict"} fallback={(s() as { text: string }).text}>
              {t("admin.conflict")}{" "}
              <span class="admin-detail">{(s() as { text: string }).text}</span>{" "}
              <Show when={props.onReload}>
                <button type="button" class="link" data-testid="admin-reload" onClick={() => props.onReload?.()}>
                  {t("admin.reload")}
                </button>
              </Show>
            </Show>
          </span>
        )}
      </Show>
    </>
  );
}

/** A settings section's head: title, who changed it last, and whether an edit is still queued. */
export function SectionHead(props: { title: string; editor: SettingsEditor; children?: JSX.Element }) {
  const desk = useDesk();
  const changed = () => {
    const c = props.editor.current();
    if (!c || c.version === 0 || !c.updated_at) return t("admin.never_changed");
    // No editor: written by the server itself (`outpost-server init` or `settings import`).
    const who =
      c.updated_by === null ? t("admin.by_server") : (userName(desk.directory(), c.updated_by) ?? t("common.unknown"));
    return t("admin.changed_by", { who, when: formatDateTime(c.updated_at, locale()), version: c.version });
  };
  return (
    <header class="admin-section-head">
      <h3>{props.title}</h3>
      <span class="muted" data-testid="admin-changed">
        {changed()}
      </span>
      <Show when={props.editor.pending()}>
        <span class="admin-pending" data-testid="admin-pending">
          {t("admin.pending")}
        </span>
      </Show>
      {props.children}
    </header>
  );
}

/** Save and discard buttons with the status line, for a settings document. */
export function SaveBar(props: { editor: SettingsEditor }) {
  const e = props.editor;
  return (
    <footer class="admin-save-bar">
      <button type="button" class="primary" data-testid="admin-save" disabled={!e.dirty() || e.saver.state().kind === "saving"} onClick={() => void e.save()}>
        {t("admin.save")}
      </button>
      <button type="button" data-testid="admin-discard" disabled={!e.dirty()} onClick={() => void e.reload()}>
        {t("admin.discard")}
      </button>
      <SaveStatus state={e.saver.state()} pending={e.pending()} onReload={() => void e.reload()} />
    </footer>
  );
}
