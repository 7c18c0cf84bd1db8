// The organisation and its customer form: name, default department, two-factor requirement,
// the form's title, logo, accent colour, default language and response-time promise, and the
// attachments customers may send (kinds, largest file, files per message; the Desk and the core
// validate the policy, this form only edits it).
import { createSignal, For, Show } from "solid-js";
import { base64Bytes, sizeText, toBase64 } from "../../lib/adminFormat";
import { FILE_TYPES, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE } from "../../backend/rules.gen";
import type { FileType } from "../../backend/types";
import { t } from "../../i18n";
import { useSettingsEditor, SaveBar, SectionHead, useAdmin } from "./state";
import type { OrgProfile, SettingsDoc } from "./model";

const LANGUAGES = ["en", "zh-CN"] as const;

/** The attachment size is edited in MB of 1,048,576 bytes (the unit the core's refusals use). */
const MB = 1024 * 1024;

/** `bytes` in MB as the size field shows it: whole or with up to two decimals. */
function megabytes(bytes: number): string {
  return String(Number((bytes / MB).toFixed(2)));
}

/** What the admin typed in the size field, in bytes; empty or unreadable is 0, which the Desk refuses. */
function bytesOf(text: string): number {
  const mb = Number(text.trim().replace(",", "."));
  return text.trim() === "" || !Number.isFinite(mb) || mb < 0 ? 0 : Math.round(mb * MB);
}

export function OrganisationSettings() {
  const admin = useAdmin();
  const editor = useSettingsEditor<Extract<SettingsDoc, { kind: "organisation" }>>("organisation");
  const [logoNote, setLogoNote] = createSignal<string | null>(null);
  const doc = () => editor.doc() as OrgProfile | null;
  const departments = () => admin.view()?.departments ?? [];

  const onLogo = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    setLogoNote(null);
    if (file.type && file.type !== "image/png") {
      setLogoNote(t("admin.org.logo_not_png"));
      return;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    editor.edit((d) => void (d.form.logo_png_base64 = toBase64(bytes)));
  };

  return (
    <section class="admin-section" data-testid="admin-organisation">
      <SectionHead title={t("admin.tab.organisation")} editor={editor} />
      <Show when={doc()}>
        {(p) => (
          <div class="admin-form">
            <label>
              <span>{t("admin.org.name")}</span>
              <input type="text" data-testid="org-name" value={p().name} onInput={(e) => editor.edit((d) => void (d.name = e.currentTarget.value))} />
            </label>
            <label>
              <span>{t("admin.org.default_department")}</span>
              <select
                data-testid="org-default-department"
                value={p().default_department ?? ""}
                onChange={(e) => editor.edit((d) => void (d.default_department = e.currentTarget.value || null))}
              >
                <option value="">{t("common.none")}</option>
                <For each={departments()}>
                  {(dep) => (
                    <option value={dep.code} disabled={!dep.active}>
                      {dep.active ? dep.name : t("admin.retired_name", { name: dep.name })}
                    </option>
                  )}
                </For>
              </select>
            </label>
            <label class="admin-check">
              <input
                type="checkbox"
                data-testid="org-two-factor"
                checked={p().require_two_factor}
                onChange={(e) => editor.edit((d) => void (d.require_two_factor = e.currentTarget.checked))}
              />
              <span>{t("admin.org.two_factor")}</span>
            </label>
            <h4>{t("admin.org.form")}</h4>
            <label>
              <span>{t("admin.org.form_title")}</span>
              <input
                type="text"
                data-testid="org-form-title"
                placeholder={p().name}
                value={p().form.title}
                onInput={(e) => editor.edit((d) => void (d.form.title = e.currentTarget.value))}
              />
            </label>
            <div class="admin-field">
              <span>{t("admin.org.logo")}</span>
              <Show when={p().form.logo_png_base64} fallback={<span class="muted" data-testid="org-logo-none">{t("admin.org.no_logo")}</span>}>
                {(logo) => (
                  <span class="admin-logo">
                    <img alt={t("admin.org.logo")} src={`data:image/png;base64,${logo()}`} data-testid="org-logo-preview" />
                    <span data-testid="org-logo-size">{sizeText(base64Bytes(logo()))}</span>
                    <button type="button" class="link" data-testid="org-logo-remove" onClick={() => editor.edit((d) => void (d.form.logo_png_base64 = null))}>
                      {t("admin.org.logo_remove")}
                    </button>
                  </span>
                )}
              </Show>
              <input type="file" accept="image/png" data-testid="org-logo-input" onChange={(e) => void onLogo(e.currentTarget)} />
              <Show when={logoNote()}>
                <span class="error" data-testid="org-logo-note">
                  {logoNote()}
                </span>
              </Show>
            </div>
            <label>
              <span>{t("admin.org.accent")}</span>
              <span class="admin-inline">
                <input
                  type="color"
                  data-testid="org-accent-picker"
                  value={/^#[0-9a-fA-F]{6}$/.test(p().form.accent_colour) ? p().form.accent_colour : "#000000"}
                  onInput={(e) => editor.edit((d) => void (d.form.accent_colour = e.currentTarget.value))}
                />
                <input
                  type="text"
                  class="admin-short"
                  data-testid="org-accent"
                  value={p().form.accent_colour}
                  onInput={(e) => editor.edit((d) => void (d.form.accent_colour = e.currentTarget.value.trim()))}
                />
              </span>
            </label>
            <label>
              <span>{t("admin.org.language")}</span>
              <select
                data-testid="org-language"
                value={p().form.default_language}
                onChange={(e) => editor.edit((d) => void (d.form.default_language = e.currentTarget.value))}
              >
                <For each={LANGUAGES}>{(l) => <option value={l}>{t(`admin.language.${l}`)}</option>}</For>
              </select>
            </label>
            <label>
              <span>{t("admin.org.promise")}</span>
              <span class="admin-inline">
                <input
                  type="number"
                  min="1"
                  class="admin-short"
                  data-testid="org-promise"
                  value={p().form.response_promise_hours ?? ""}
                  onInput={(e) => {
                    const v = e.currentTarget.value.trim();
                    editor.edit((d) => void (d.form.response_promise_hours = v === "" ? null : Math.round(Number(v))));
                  }}
                />
                <span class="muted">{t("admin.org.promise_hint")}</span>
              </span>
            </label>
            <fieldset class="admin-field" data-testid="org-attachments">
              <legend>{t("admin.org.attachments")}</legend>
              <span class="muted">{t("admin.org.attachments_hint")}</span>
              <div class="admin-inline admin-wrap" role="group" aria-label={t("admin.org.attachments_types")}>
                <For each={FILE_TYPES}>
                  {(kind: FileType) => (
                    <label class="admin-check">
                      <input
                        type="checkbox"
                        data-testid={`org-attachment-type-${kind}`}
                        checked={p().attachments.types.includes(kind)}
                        onChange={(e) => {
                          const on = e.currentTarget.checked;
                          editor.edit(
                            (d) => void (d.attachments.types = FILE_TYPES.filter((k) => (k === kind ? on : d.attachments.types.includes(k)))),
                          );
                        }}
                      />
                      <span>{t(`admin.org.attachments_type.${kind}`)}</span>
                    </label>
                  )}
                </For>
              </div>
              <label>
                <span>{t("admin.org.attachments_max_size")}</span>
                <span class="admin-inline">
                  <input
                    type="number"
                    min="0.01"
                    step="any"
                    max={MAX_ATTACHMENT_BYTES / MB}
                    class="admin-short"
                    data-testid="org-attachment-max-mb"
                    value={megabytes(p().attachments.max_bytes)}
                    onInput={(e) => {
                      const bytes = bytesOf(e.currentTarget.value);
                      editor.edit((d) => void (d.attachments.max_bytes = bytes));
                    }}
                  />
                  <span class="muted">{t("admin.org.attachments_max_size_hint", { max: megabytes(MAX_ATTACHMENT_BYTES) })}</span>
                </span>
              </label>
              <label>
                <span>{t("admin.org.attachments_per_message")}</span>
                <span class="admin-inline">
                  <input
                    type="number"
                    min="1"
                    max={MAX_ATTACHMENTS_PER_MESSAGE}
                    step="1"
                    class="admin-short"
                    data-testid="org-attachment-max-files"
                    value={p().attachments.max_per_message}
                    onInput={(e) => {
                      const v = e.currentTarget.value.trim();
                      const n = v === "" ? 0 : Math.round(Number(v));
                      editor.edit((d) => void (d.attachments.max_per_message = Number.isFinite(n) ? n : 0));
                    }}
                  />
                  <span class="muted">{t("admin.org.attachments_per_message_hint", { max: MAX_ATTACHMENTS_PER_MESSAGE })}</span>
                </span>
              </label>
            </fieldset>
            <SaveBar editor={editor} />
          </div>
        )}
      </Show>
    </section>
  );
}
