import { createSignal, For, Show } from "solid-js";
import type { CustomerTier, Mutation, Requester, Ticket } from "../backend";
import { t } from "../i18n";
import { Dialog } from "./Dialog";

export const TIERS: CustomerTier[] = ["standard", "vip", "enterprise"];

type OnChange = (mutation: Mutation) => Promise<boolean>;

/** A small pencil (the app's own icon, never an emoji). */
export function EditIcon() {
  return (
    <svg class="icon-svg" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path d="M11.5 2.5l2 2L6 12H4v-2z M10 4l2 2" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linejoin="round" />
    </svg>
  );
}

/**
 * The subject, correctable in place (`ticket.set_subject`). Limits and control characters are
 * checked by the Desk (outpost-core); its refusal shows in the pane's error line.
 */
export function SubjectEditor(props: { ticket: Ticket; onChange: OnChange}) {
  const [editing, setEditing] = createSignal(false);
  const [value, setValue] = createSignal("");
  const [error, setError] = createSignal<string | null>(null);
  const start = () => {
    setValue(props.ticket.subject);
    setError(null);
    setEditing(true);
  };
  const save = async () => {
    const subject = value().trim();
    if (!subject) return setError(t("ticket.subject_required"));
    if (subject === props.ticket.subject) return setEditing(false);
    if (await props.onChange({ name: "ticket.set_subject", args: { ticket_id: props.ticket.id, subject } })) setEditing(false);
  };
  return (
    <Show
      when={editing()}
      fallback={
        <>
          <h2 class="ticket-subject" data-testid="customer-text">
            {props.ticket.subject}
          </h2>
          <button type="button" class="icon edit-button" data-testid="edit-subject" aria-label={t("ticket.edit_subject")} title={t("ticket.edit_subject")} onClick={start}>
            <EditIcon />
          </button>
        </>
      }
    >
      <form
        class="inline-edit"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <input
          class="subject-input"
          data-testid="subject-input"
          aria-label={t("newticket.subject")}
          value={value()}
          ref={(el) => queueMicrotask(() => el.focus())}
          onInput={(e) => setValue(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation();
              setEditing(false);
            }
          }}
        />
        <button type="submit" class="primary" data-testid="subject-save">
          {t("ticket.save")}
        </button>
        <button type="button" data-testid="subject-cancel" onClick={() => setEditing(false)}>
          {t("common.cancel")}
        </button>
        <Show when={error()}>
          <span class="error" role="alert" data-testid="subject-error">
            {error()}
          </span>
        </Show>
      </form>
    </Show>
  );
}

/** The description, correctable (`ticket.set_description`); an empty one is allowed. */
export function DescriptionEditor(props: { ticket: Ticket; onChange: OnChange}) {
  const [editing, setEditing] = createSignal(false);
  const [value, setValue] = createSignal("");
  const start = () => {
    setValue(props.ticket.description);
    setEditing(true);
  };
  const save = async () => {
    const description = value().trim();
    if (description === props.ticket.description) return setEditing(false);
    if (await props.onChange({ name: "ticket.set_description", args: { ticket_id: props.ticket.id, description } })) setEditing(false);
  };
  return (
    <div class="description">
      <div class="section-head">
        <h3>{t("ticket.description")}</h3>
        <Show when={!editing()}>
          <button type="button" class="icon edit-button" data-testid="edit-description" aria-label={t("ticket.edit_description")} title={t("ticket.edit_description")} onClick={start}>
            <EditIcon />
          </button>
        </Show>
      </div>
      <Show
        when={editing()}
        fallback={
          <p class="entry-text" data-testid="customer-text">
            {props.ticket.description}
          </p>
        }
      >
        <textarea
          class="description-input"
          data-testid="description-input"
          aria-label={t("ticket.description")}
          rows={6}
          value={value()}
          ref={(el) => queueMicrotask(() => el.focus())}
          onInput={(e) => setValue(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              e.stopPropagation();
              setEditing(false);
            } else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void save();
            }
          }}
        />
        <div class="inline-actions">
          <button type="button" class="primary" data-testid="description-save" onClick={() => void save()}>
            {t("ticket.save")}
          </button>
          <button type="button" data-testid="description-cancel" onClick={() => setEditing(false)}>
            {t("common.cancel")}
          </button>
        </div>
      </Show>
    </div>
  );
}

/** Corrects who asked: name, contact, account id and tier (`ticket.set_requester`). */
export function RequesterDialog(props: { ticket: Ticket; onChange: OnChange; onClose: () => void; error?: string | null }) {
  const r = props.ticket.requester;
  const [form, setForm] = createSignal({ name: r.name, contact: r.contact, account: r.account_id ?? "", tier: r.tier });
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const set = (key: keyof ReturnType<typeof form>) => (e: { currentTarget: { value: string } }) => setForm({ ...form(), [key]: e.currentTarget.value });

  const save = async (e: Event) => {
    e.preventDefault();
    const f = form();
    if (!f.name.trim() || !f.contact.trim()) return setError(t("ticket.requester_missing"));
    const requester: Requester = { name: f.name.trim(), contact: f.contact.trim(), account_id: f.account.trim() || null, tier: f.tier };
    if (requester.name === r.name && requester.contact === r.contact && requester.account_id === r.account_id && requester.tier === r.tier) {
      return props.onClose();
    }
    setBusy(true);
    setError(null);
    const ok = await props.onChange({ name: "ticket.set_requester", args: { ticket_id: props.ticket.id, requester } });
    setBusy(false);
    if (ok) props.onClose();
  };

  return (
    <Dialog title={t("ticket.edit_requester")} onClose={props.onClose} testid="requester-dialog">
      <form class="new-ticket" onSubmit={(e) => void save(e)}>
        <label class="field">
          <span>{t("newticket.name")}</span>
          <input data-testid="requester-name" value={form().name} onInput={set("name")} />
        </label>
        <label class="field">
          <span>{t("newticket.contact")}</span>
          <input data-testid="requester-contact" value={form().contact} onInput={set("contact")} />
        </label>
        <label class="field">
          <span>{t("newticket.account")}</span>
          <input data-testid="requester-account" value={form().account} onInput={set("account")} />
        </label>
        <label class="field">
          <span>{t("newticket.tier")}</span>
          <select data-testid="requester-tier" value={form().tier} onChange={set("tier")}>
            <For each={TIERS}>{(x) => <option value={x}>{t(`tier.${x}`)}</option>}</For>
          </select>
        </label>
        <Show when={error() ?? props.error}>
          <p class="error" role="alert" data-testid="requester-error">
            {error() ?? props.error}
          </p>
        </Show>
        <footer class="dialog-actions">
          <button type="button" onClick={() => props.onClose()}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="primary" data-testid="requester-save" disabled={busy()}>
            {t("ticket.save")}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
