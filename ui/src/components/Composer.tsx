import { createEffect, createMemo, createSignal, For, on, Show } from "solid-js";
import type { Mutation, Template, Ticket } from "../backend";
import { useDesk } from "../state/app";
import { contextFor, fillTemplate, templatesFor } from "../lib/templates";
import { errorText } from "../lib/errors";
import { t } from "../i18n";
import { LockIcon, PaperclipIcon } from "./icons";
import { createUploads, UploadChips } from "./attachments/Uploads";

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
  let fileInput: HTMLInputElement | undefined;
  const uploads = createUploads();
  const [dragging, setDragging] = createSignal(false);
  const offline = () => {
    const state = desk.sync()?.connectivity.state;
    return state === "offline" || state === "error";
  };
  const ticketUploads = createMemo(() => uploads.uploads().filter((u) => u.ticketId === props.ticket.id));
  /** Each file the shell took is an entry: the pane re-reads the ticket to show it. */
  const attach = (files: FileList | null | undefined) => {
    if (files && files.length > 0) uploads.add(props.ticket.id, [...files], props.onSent);
  };
  const carriesFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes("Files");

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
    <section
      class="composer"
      classList={{ note: mode() === "note", dragging: dragging() }}
      aria-label={t("composer.title")}
      data-testid="composer"
      onDragEnter={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(e) => {
        setDragging(false);
        if (!e.dataTransfer || e.dataTransfer.files.length === 0) return;
        e.preventDefault();
        attach(e.dataTransfer.files);
      }}
    >
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
      <Show when={dragging()}>
        <p class="drop-hint" data-testid="drop-hint">
          {t("attachment.drop_here")}
        </p>
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
      <UploadChips
        uploads={ticketUploads()}
        offline={offline()}
        onCancel={(u) => void uploads.cancel(u, props.onSent)}
        onDismiss={(u) => uploads.dismiss(u.key)}
      />
      <div class="composer-actions">
        <button
          type="button"
          class="attach-button"
          data-testid="attach-button"
          title={t("attachment.attach_hint")}
          onClick={() => fileInput?.click()}
        >
          <PaperclipIcon /> {t("attachment.attach")}
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="attach-input"
          onChange={(e) => {
            attach(e.currentTarget.files);
            // The same file can be picked again.
            e.currentTarget.value = "";
          }}
        />
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
