import { createEffect, createMemo, createSignal, For, on, Show } from "solid-js";
import type { Mutation, Template, Ticket } from "../backend";
import { useDesk } from "../state/app";
import { contextFor, fillTemplate, templatesFor } from "../lib/templates";
import { errorText } from "../lib/errors";
import { t } from "../i18n";

export type ComposerMode = "reply" | "note";

export type ComposerApi = { focus: (mode: ComposerMode) => void; focusTemplates: () => void };

/** Drafts survive switching tickets (per ticket and mode), not a restart. */
const drafts = new Map<string, string>();

/** A macro's field changes in words ("status Pending, P2, +refund"); empty for a plain template. */
export function macroSummary(template: Template): string {
  const c = template.changes;
  const parts: string[] = [];
  if (c.status) parts.push(t("ticket.macro.status", { status: t(`status.${c.status}`) }));
  if (c.priority) parts.push(c.priority);
  for (const tag of c.add_tags) parts.push(`+${tag}`);
  return parts.join(t("common.list_separator"));
}

/**
 * The intents a macro's field changes make on `ticket`, each an ordinary change the Desk judges
 * as if made by hand; what the ticket already has is left out.
 */
export function macroMutations(template: Template, ticket: Ticket): Mutation[] {
  const c = template.changes;
  const out: Mutation[] = [];
  if (c.priority && c.priority !== ticket.priority) out.push({ name: "ticket.set_priority", args: { ticket_id: ticket.id, priority: c.priority } });
  for (const tag of c.add_tags) {
    if (!ticket.tags.includes(tag)) out.push({ name: "ticket.add_tag", args: { ticket_id: ticket.id, tag } });
  }
  if (c.status && c.status !== ticket.status) out.push({ name: "ticket.set_status", args: { ticket_id: ticket.id, status: c.status, reason: null } });
  return out;
}

export function Composer(props: {
  ticket: Ticket;
  onSent: () => void;
  /** Applies one change to the ticket (the pane's: refreshes it, shows a refusal). */
  onChange: (mutation: Mutation) => Promise<boolean>;
  api?: (api: ComposerApi) => void;
}) {
  const desk = useDesk();
  const [mode, setMode] = createSignal<ComposerMode>("reply");
  const [text, setText] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  let area: HTMLTextAreaElement | undefined;
  let picker: HTMLSelectElement | undefined;

  const draftKey = () => `${props.ticket.id}:${mode()}`;
  createEffect(
    on(draftKey, (key) => {
      setText(drafts.get(key) ?? "");
      setError(null);
    }),
  );

  const update = (value: string) => {
    setText(value);
    if (value) drafts.set(draftKey(), value);
    else drafts.delete(draftKey());
  };

  const available = createMemo(() => templatesFor(desk.templates(), props.ticket.language, props.ticket.category));

  /** Inserts the text; a macro then applies its field changes one by one, stopping at a refusal. */
  const insertTemplate = async (id: string) => {
    const template = available().find((x) => x.id === id);
    if (!template) return;
    const filled = fillTemplate(template.body, contextFor(props.ticket, desk.me.user.name));
    const current = text();
    update(current.trim() ? `${current}\n\n${filled}` : filled);
    area?.focus();
    for (const mutation of macroMutations(template, props.ticket)) {
      if (!(await props.onChange(mutation))) break;
    }
  };

  const send = async () => {
    const body = text().trim();
    if (!body || busy()) return;
    setBusy(true);
    setError(null);
    try {
      if (mode() === "reply") await desk.backend.reply(props.ticket.id, body);
      else await desk.backend.note(props.ticket.id, body);
      update("");
      props.onSent();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  props.api?.({
    focus: (m) => {
      setMode(m);
      area?.focus();
    },
    focusTemplates: () => picker?.focus(),
  });

  return (
    <section class="composer" classList={{ note: mode() === "note" }} aria-label={t("composer.title")}>
      <div class="composer-bar">
        <div class="segmented" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={mode() === "reply"}
            classList={{ on: mode() === "reply" }}
            data-testid="composer-mode-reply"
            onClick={() => setMode("reply")}
          >
            {t("composer.reply")}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode() === "note"}
            classList={{ on: mode() === "note" }}
            data-testid="composer-mode-note"
            onClick={() => setMode("note")}
          >
            <LockIcon /> {t("composer.note")}
          </button>
        </div>
        <select
          ref={picker}
          class="template-picker"
          data-testid="template-picker"
          aria-label={t("composer.template")}
          value=""
          onChange={(e) => {
            void insertTemplate(e.currentTarget.value);
            e.currentTarget.value = "";
          }}
        >
          <option value="">{available().length ? t("composer.template") : t("composer.no_templates", { language: props.ticket.language })}</option>
          <For each={available()}>
            {(tpl) => (
              <option value={tpl.id} data-macro={String(macroSummary(tpl) !== "")}>
                {macroSummary(tpl) ? t("ticket.macro.label", { name: tpl.name, changes: macroSummary(tpl) }) : tpl.name}
              </option>
            )}
          </For>
        </select>
      </div>
      <Show when={mode() === "note"}>
        <p class="note-hint">{t("composer.note_hint")}</p>
      </Show>
      <textarea
        ref={area}
        class="composer-text"
        data-testid="composer-text"
        rows={5}
        lang={mode() === "reply" ? props.ticket.language : undefined}
        placeholder={mode() === "reply" ? t("composer.reply_placeholder", { language: props.ticket.language }) : t("composer.note_placeholder")}
        value={text()}
        onInput={(e) => update(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void send();
          } else if (e.key === "Escape") {
            e.currentTarget.blur();
          }
        }}
      />
      <div class="composer-actions">
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <span class="muted">{t("composer.send_hint")}</span>
        <button type="button" class="primary" data-testid="composer-send" disabled={busy() || !text().trim()} onClick={() => void send()}>
          {mode() === "reply" ? t("composer.send_reply") : t("composer.send_note")}
        </button>
      </div>
    </section>
  );
}

/** The internal note's lock (the app's own icon). */
function LockIcon() {
  return (
    <svg class="icon-svg" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <rect x="3" y="7" width="10" height="7" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4" />
      <path d="M5.5 7V5a2.5 2.5 0 0 1 5 0v2" fill="none" stroke="currentColor" stroke-width="1.4" />
    </svg>
  );
}
