// Reply templates and macros: one text per language, with placeholder buttons, the categories
// it is offered for, and (for a macro) the field changes it makes: status, priority, tags.
// Retired templates are no longer offered to agents and can be restored.
import { createMemo, createSignal, For, Show } from "solid-js";
import type { Category, Priority, Status } from "../../backend";
// The placeholders the desk fills when a template is used (`lib/templates.ts`) come from the
// core, which also checks them.
import { STATUSES, TEMPLATE_PLACEHOLDERS } from "../../backend/rules.gen";
import { joinList, splitList } from "../../lib/adminFormat";
import { t } from "../../i18n";
import { categoryChoices, choiceLabel } from "../../lib/categories";
import { PRIORITIES } from "../TicketControls";
import { createSaver, putTemplate, SaveStatus, useAdmin } from "./state";
import type { AdminTemplate } from "./model";

/** The languages a template has one text for. */
const LANGUAGES = ["en", "zh-CN"] as const;

function blank(language: string): AdminTemplate {
  return {
    id: crypto.randomUUID(),
    name: "",
    language,
    body: "",
    categories: [],
    changes: { status: null, priority: null, add_tags: [] },
    active: true,
  };
}

/** A new template in the other language with the same name, categories and field changes. */
function translation(source: AdminTemplate): AdminTemplate {
  const other = source.language === "zh-CN" ? "en" : "zh-CN";
  return { ...blank(other), name: source.name, categories: [...source.categories], changes: structuredClone(source.changes) };
}

function TemplateForm(props: { template: AdminTemplate; isNew: boolean; onDone: () => void }) {
  const admin = useAdmin();
  const [draft, setDraft] = createSignal<AdminTemplate>(structuredClone(props.template));
  const saver = createSaver();
  let body: HTMLTextAreaElement | undefined;
  const set = (patch: Partial<AdminTemplate>) => {
    setDraft({ ...draft(), ...patch });
    saver.clear();
  };
  const setChanges = (patch: Partial<AdminTemplate["changes"]>) => set({ changes: { ...draft().changes, ...patch } });

  const insert = (name: string) => {
    const text = `{{${name}}}`;
    const value = draft().body;
    const start = body?.selectionStart ?? value.length;
    const end = body?.selectionEnd ?? value.length;
    set({ body: value.slice(0, start) + text + value.slice(end) });
    queueMicrotask(() => {
      body?.focus();
      body?.setSelectionRange(start + text.length, start + text.length);
    });
  };

  const save = async (next: AdminTemplate) => {
    if (await saver.run(() => putTemplate(admin, next))) props.onDone();
  };

  return (
    <div class="admin-form admin-template-form" data-testid="template-form">
      <div class="admin-inline admin-wrap">
        <label>
          <span>{t("admin.templates.name")}</span>
          <input type="text" data-testid="template-name" value={draft().name} onInput={(e) => set({ name: e.currentTarget.value })} />
        </label>
        <label>
          <span>{t("admin.templates.language")}</span>
          <select data-testid="template-language" value={draft().language} onChange={(e) => set({ language: e.currentTarget.value })}>
            <For each={LANGUAGES}>{(l) => <option value={l}>{t(`admin.language.${l}`)}</option>}</For>
          </select>
        </label>
      </div>
      <label>
        <span>{t("admin.templates.body")}</span>
        <textarea rows="6" data-testid="template-body" ref={body} value={draft().body} onInput={(e) => set({ body: e.currentTarget.value })} />
      </label>
      <div class="admin-inline admin-wrap" data-testid="template-placeholders">
        <span class="muted">{t("admin.templates.insert")}</span>
        <For each={TEMPLATE_PLACEHOLDERS}>
          {(p) => (
            <button type="button" class="admin-chip" data-testid={`placeholder-${p}`} onClick={() => insert(p)}>
              {t(`admin.templates.placeholder.${p}`)}
            </button>
          )}
        </For>
      </div>
      <div class="admin-field">
        <span>{t("admin.templates.categories")}</span>
        <span class="admin-inline admin-wrap">
          <For each={categoryChoices(draft().categories)}>
            {({ category: c, retired }) => (
              <label class="admin-check">
                <input
                  type="checkbox"
                  data-testid={`template-category-${c}`}
                  checked={draft().categories.includes(c)}
                  onChange={(e) => {
                    const rest = draft().categories.filter((x) => x !== c);
                    set({ categories: e.currentTarget.checked ? [...rest, c as Category] : rest });
                  }}
                />
                <span>{choiceLabel({ category: c, retired })}</span>
              </label>
            )}
          </For>
        </span>
      </div>
      <h5>{t("admin.templates.macro")}</h5>
      <p class="muted">{t("admin.templates.macro_hint")}</p>
      <div class="admin-inline admin-wrap">
        <label>
          <span>{t("admin.templates.set_status")}</span>
          <select data-testid="template-status" value={draft().changes.status ?? ""} onChange={(e) => setChanges({ status: (e.currentTarget.value || null) as Status | null })}>
            <option value="">{t("admin.rules.unchanged")}</option>
            <For each={STATUSES}>{(s) => <option value={s}>{t(`status.${s}`)}</option>}</For>
          </select>
        </label>
        <label>
          <span>{t("admin.templates.set_priority")}</span>
          <select
            data-testid="template-priority"
            value={draft().changes.priority ?? ""}
            onChange={(e) => setChanges({ priority: (e.currentTarget.value || null) as Priority | null })}
          >
            <option value="">{t("admin.rules.unchanged")}</option>
            <For each={PRIORITIES}>{(p) => <option value={p}>{`${p} · ${t(`priority.${p}`)}`}</option>}</For>
          </select>
        </label>
        <label>
          <span>{t("admin.templates.add_tags")}</span>
          <input type="text" data-testid="template-tags" value={joinList(draft().changes.add_tags)} onChange={(e) => setChanges({ add_tags: splitList(e.currentTarget.value) })} />
        </label>
      </div>
      <footer class="admin-save-bar">
        <button type="button" class="primary" data-testid="template-save" disabled={saver.state().kind === "saving"} onClick={() => void save(draft())}>
          {props.isNew ? t("admin.templates.create") : t("admin.save")}
        </button>
        <button type="button" data-testid="template-cancel" onClick={() => props.onDone()}>
          {t("common.cancel")}
        </button>
        <SaveStatus state={saver.state()} testid="template-status-line" />
      </footer>
    </div>
  );
}

export function TemplatesSettings() {
  const admin = useAdmin();
  const [language, setLanguage] = createSignal<string>("");
  const [editing, setEditing] = createSignal<{ template: AdminTemplate; isNew: boolean } | null>(null);
  const saver = createSaver();
  const templates = createMemo(() => {
    const all = admin.view()?.templates ?? [];
    const shown = language() ? all.filter((x) => x.language === language()) : all;
    return [...shown].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name) || a.language.localeCompare(b.language));
  });
  const isMacro = (x: AdminTemplate) => !!(x.changes.status || x.changes.priority || x.changes.add_tags.length);

  return (
    <section class="admin-section" data-testid="admin-templates">
      <header class="admin-section-head">
        <h3>{t("admin.tab.templates")}</h3>
        <select data-testid="templates-language" aria-label={t("admin.templates.language")} value={language()} onChange={(e) => setLanguage(e.currentTarget.value)}>
          <option value="">{t("admin.templates.all_languages")}</option>
          <For each={LANGUAGES}>{(l) => <option value={l}>{t(`admin.language.${l}`)}</option>}</For>
        </select>
        <button type="button" data-testid="template-new" onClick={() => setEditing({ template: blank(language() || "en"), isNew: true })}>
          {t("admin.templates.new")}
        </button>
      </header>
      <Show when={editing()} keyed>
        {(e) => <TemplateForm template={e.template} isNew={e.isNew} onDone={() => setEditing(null)} />}
      </Show>
      <table class="admin-table" data-testid="templates-list">
        <thead>
          <tr>
            <th>{t("admin.templates.name")}</th>
            <th>{t("admin.templates.language")}</th>
            <th>{t("admin.templates.kind")}</th>
            <th>{t("admin.status")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          <For each={templates()}>
            {(x) => (
              <tr data-testid="template-row" data-id={x.id} classList={{ "admin-retired": !x.active }}>
                <td>{x.name}</td>
                <td>{t(`admin.language.${x.language === "zh-CN" ? "zh-CN" : "en"}`)}</td>
                <td>{isMacro(x) ? t("admin.templates.is_macro") : t("admin.templates.is_template")}</td>
                <td>{x.active ? t("admin.active") : t("admin.retired")}</td>
                <td class="admin-row-actions">
                  <button type="button" class="link" data-testid="template-edit" onClick={() => setEditing({ template: x, isNew: false })}>
                    {t("admin.edit")}
                  </button>
                  <button
                    type="button"
                    class="link"
                    data-testid="template-translate"
                    onClick={() => setEditing({ template: translation(x), isNew: true })}
                  >
                    {t("admin.templates.translate")}
                  </button>
                  <button type="button" class="link" data-testid="template-toggle" onClick={() => void saver.run(() => putTemplate(admin, { ...x, active: !x.active }))}>
                    {x.active ? t("admin.retire") : t("admin.restore")}
                  </button>
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
      <Show when={templates().length === 0}>
        <p class="muted" data-testid="templates-empty">
          {t("admin.templates.empty")}
        </p>
      </Show>
      <SaveStatus state={saver.state()} testid="templates-status-line" />
    </section>
  );
}
