import { createResource, createSignal, For, Match, Show, Switch } from "solid-js";
import type { AttachmentView, Directory, Entry, EntryKind, TicketEvent } from "../backend";
import { departmentName, useDesk, userName } from "../state/app";
import { locale, t } from "../i18n";
import { formatDateTime } from "../lib/time";
import { categoryLabel } from "../lib/categories";
import { LockIcon, FileTypeIcon } from "./icons";
import { AttachmentRow } from "./attachments/AttachmentRow";

/** `data-kind` of a timeline entry, for styling and the WebDriver suite. */
export function entryKind(entry: Entry): string {
  switch (entry.body.kind) {
    case "customer_message":
      return "customer";
    case "risk_action":
      return "risk";
    default:
      return entry.body.kind;
  }
}

function labelOf(kind: string, value: string | null, directory: Directory): string {
  if (value === null) return t("common.nobody");
  switch (kind) {
    case "user":
      return userName(directory, value) ?? value;
    default:
      return value;
  }
}

/** One event in words. */
export function describeEvent(event: TicketEvent, directory: Directory): string {
  switch (event.type) {
    case "created":
      return t("event.created");
    case "status_changed":
      return t("event.status_changed", { from: t(`status.${event.from}`), to: t(`status.${event.to}`) });
    case "reopened":
      return t("event.reopened", { to: t(`status.${event.to}`) });
    case "priority_changed":
      return t("event.priority_changed", { from: event.from, to: event.to });
    case "category_changed":
      return t("event.category_changed", { from: categoryLabel(event.from), to: categoryLabel(event.to) });
    case "risk_changed":
      return t("event.risk_changed", { from: t(`risk.${event.from}`), to: t(`risk.${event.to}`) });
    case "assignee_changed":
      return t("event.assignee_changed", { to: labelOf("user", event.to, directory) });
    case "department_changed":
      return t("event.department_changed", { to: event.to === null ? t("common.none") : departmentName(directory, event.to) });
    case "tag_added":
      return t("event.tag_added", { tag: event.tag });
    case "tag_removed":
      return t("event.tag_removed", { tag: event.tag });
    case "subject_changed":
      return t("event.subject_changed");
    case "description_changed":
      return t("event.description_changed");
    case "requester_changed":
      return t("event.requester_changed");
    case "linked":
      return t("event.linked", { kind: t(`link.${event.link.kind}`), other: event.link.other });
    case "csat_received":
      return t("event.csat_received", { score: event.score });
    case "sla_at_risk":
      return t("event.sla_at_risk", { clock: t(`clock.${event.clock}`) });
    case "sla_breached":
      return t("event.sla_breached", { clock: t(`clock.${event.clock}`) });
    case "entry_redacted":
      return t("event.entry_redacted", { kind: kindLabel(event.kind), hash: event.removed_sha256.slice(0, 8) });
  }
}

/** "reply", "internal note"… for an entry kind. */
export function kindLabel(kind: EntryKind): string {
  return t(`timeline.kind.${entryKind({ body: { kind } } as Entry)}` as Parameters<typeof t>[0]);
}

/** Entries whose content a supervisor may redact (outpost-core `EntryBody::is_redactable`). */
export function isRedactable(entry: Entry): boolean {
  const k = entry.body.kind;
  return k === "customer_message" || k === "reply" || k === "note" || k === "attachment";
}

/**
 * The ticket's history. With `asOf`, entries after that moment are de-emphasised; with
 * `onRedact` (supervisors), content entries offer "Redact…".
 */
export function Timeline(props: { entries: Entry[]; directory: Directory; asOf?: string | null; onRedact?: (entry: Entry) => void }) {
  const desk = useDesk();
  const offline = () => {
    const state = desk.sync()?.connectivity.state;
    return state === "offline" || state === "error";
  };
  /** Newer than the last read: progress events and downloads. */
  const [newer, setNewer] = createSignal(new Map<string, AttachmentView>());
  // Where each attachment's bytes are, read again whenever the ticket is (a new entries array).
  const [views, { refetch }] = createResource(
    () => {
      const first = props.entries.find((e) => e.body.kind === "attachment");
      return first ? { ticketId: first.ticket_id, entries: props.entries } : false;
    },
    async ({ ticketId }) => {
      const list = await desk.backend.attachments(ticketId);
      setNewer(new Map());
      return new Map(list.map((v) => [v.attachment_id, v]));
    },
  );
  const remember = (view: AttachmentView) => setNewer((m) => new Map(m).set(view.attachment_id, view));
  desk.onAttachmentProgress((p) => {
    const known = newer().get(p.attachment_id) ?? (views.error ? undefined : views.latest?.get(p.attachment_id));
    if (!known) return;
    remember({ ...known, state: p.state, sent_bytes: p.sent_bytes, size: p.size });
    // The event says where the bytes are; the cache's view has the rest (a failure's reason).
    if (p.state === "uploaded" || p.state === "failed") void refetch();
  });
  const viewOf = (attachmentId: string): AttachmentView | undefined =>
    newer().get(attachmentId) ?? (views.error ? undefined : views.latest?.get(attachmentId));
  const sorted = () => [...props.entries].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const author = (e: Entry) =>
    e.author
      ? (userName(props.directory, e.author) ?? e.author)
      : e.body.kind === "customer_message" || (e.body.kind === "redacted" && e.body.original === "customer_message")
        ? t("timeline.customer")
        : t("timeline.system");
  const after = (e: Entry) => !!props.asOf && Date.parse(e.created_at) > Date.parse(props.asOf);
  return (
    <ol class="timeline" data-testid="timeline" aria-label={t("timeline.title")}>
      <For each={sorted()}>
        {(entry) => (
          <li
            class="entry"
            classList={{ "after-as-of": after(entry) }}
            data-testid="timeline-entry"
            data-kind={entryKind(entry)}
            data-after-as-of={after(entry) ? "true" : undefined}
          >
            <div class="entry-head">
              <span class="entry-author">
                {entry.body.kind === "note" ? <><LockIcon />{" "}</> : null}
                {author(entry)}
              </span>
              <span class="entry-label">{t(`timeline.kind.${entryKind(entry)}` as Parameters<typeof t>[0])}</span>
              <time class="entry-time" dateTime={entry.created_at}>
                {formatDateTime(entry.created_at, locale())}
              </time>
              <Show when={props.onRedact && isRedactable(entry)}>
                <button type="button" class="link redact-button" data-testid="redact-button" onClick={() => props.onRedact?.(entry)}>
                  {t("redact.button")}
                </button>
              </Show>
            </div>
            <Switch>
              <Match when={entry.body.kind === "customer_message" || entry.body.kind === "reply" || entry.body.kind === "note"}>
                <div class="entry-text" data-testid="customer-text">
                  {(entry.body as { text: string }).text}
                </div>
              </Match>
              <Match when={entry.body.kind === "event" && entry.body}>
                {(body) => <div class="entry-event">{describeEvent((body() as { event: TicketEvent }).event, props.directory)}</div>}
              </Match>
              <Match when={entry.body.kind === "verification" && entry.body}>
                {(body) => (
                  <ul class="entry-checks">
                    <For each={(body() as Extract<Entry["body"], { kind: "verification" }>).checks}>
                      {(check) => (
                        <li data-result={check.result}>
                          {t(`verification.result_glyph.${check.result}`)} {t(`dimension.${check.dimension}`)} ·{" "}
                          <span data-testid="customer-text">{check.method}</span>
                        </li>
                      )}
                    </For>
                  </ul>
                )}
              </Match>
              <Match when={entry.body.kind === "risk_action" && entry.body}>
                {(body) => {
                  const b = body() as Extract<Entry["body"], { kind: "risk_action" }>;
                  return (
                    <div class="entry-risk">
                      <strong>{t(`risk_action.${b.action}`)}</strong> · <span data-testid="customer-text">{b.target}</span> ·{" "}
                      <span data-testid="customer-text">{b.reason}</span>
                    </div>
                  );
                }}
              </Match>
              <Match when={entry.body.kind === "redacted" && entry.body}>
                {(body) => {
                  const b = body() as Extract<Entry["body"], { kind: "redacted" }>;
                  return (
                    <div class="entry-redacted" data-testid="redacted-entry">
                      <Show when={b.original === "attachment"}>
                        <span class="attachment-redacted" data-testid="redacted-attachment">
                          <FileTypeIcon mime="" /> {t("attachment.redacted")}
                        </span>{" "}
                      </Show>
                      <span>
                        {t("redact.by", {
                          kind: kindLabel(b.original),
                          name: b.by ? (userName(props.directory, b.by) ?? b.by) : t("timeline.system"),
                          time: formatDateTime(b.at, locale()),
                        })}
                      </span>{" "}
                      <span class="redact-reason" data-testid="redact-reason-text">
                        {b.reason}
                      </span>
                    </div>
                  );
                }}
              </Match>
              <Match when={entry.body.kind === "attachment" && entry.body}>
                {(body) => {
                  const b = body() as Extract<Entry["body"], { kind: "attachment" }>;
                  return (
                    <div class="entry-attachment">
                      <AttachmentRow
                        facts={{ ticket_id: entry.ticket_id, attachment_id: b.attachment_id, filename: b.filename, mime: b.mime, size: b.size }}
                        view={viewOf(b.attachment_id)}
                        offline={offline()}
                        onView={remember}
                      />
                    </div>
                  );
                }}
              </Match>
            </Switch>
          </li>
        )}
      </For>
    </ol>
  );
}
