import { createSignal, For, onMount, Show } from "solid-js";
import type { Category, Channel, CustomerTier, NewTicket as NewTicketArgs, Priority, RiskLevel } from "../backend";
import { useDesk } from "../state/app";
import { newId } from "../lib/ids";
import { errorText } from "../lib/errors";
import { t } from "../i18n";
import { Dialog } from "./Dialog";
import { categoriesInUse, categoryLabel } from "../lib/categories";
import { PRIORITIES, RISKS } from "./TicketControls";

const CHANNELS: Channel[] = ["phone", "email", "chat", "wechat", "web_form", "app", "api"];
const TIERS: CustomerTier[] = ["standard", "vip", "enterprise"];

/**
 * A ticket taken by phone or chat, created locally (ticket.create) and synced later. It starts
 * in the creator's department, else the organisation's default one, so someone can see it.
 */
export function NewTicketDialog(props: { onClose: () => void; onCreated: (id: string) => void }) {
  const desk = useDesk();
  const offered = () => desk.directory().departments.filter((d) => d.active);
  const own = desk.me.user.departments.find((code) => offered().some((d) => d.code === code)) ?? "";
  const [form, setForm] = createSignal({
    subject: "",
    description: "",
    name: "",
    contact: "",
    account: "",
    tier: "standard" as CustomerTier,
    channel: "phone" as Channel,
    language: desk.settings().language as string,
    category: (categoriesInUse().includes("inquiry") ? "inquiry" : (categoriesInUse()[0] ?? "inquiry")) as Category,
    priority: "P3" as Priority,
    risk: "none" as RiskLevel,
    department: own,
  });
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  onMount(async () => {
    if (own) return;
    try {
      const organisation = (await desk.backend.orgSettings()).settings.organisation.settings;
      const fallback = organisation.kind === "organisation" ? organisation.doc.default_department : null;
      if (fallback && !form().department && offered().some((d) => d.code === fallback)) setForm({ ...form(), department: fallback });
    } catch {
      // The settings could not be read: the creator picks a department.
    }
  });
  const set = (key: keyof ReturnType<typeof form>) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form(), [key]: e.currentTarget.value });

  const create = async (e: Event) => {
    e.preventDefault();
    const f = form();
    if (!f.subject.trim() || !f.name.trim() || !f.contact.trim()) return setError(t("newticket.missing"));
    if (!f.department && offered().length > 0) return setError(t("newticket.department_required"));
    const args: NewTicketArgs = {
      id: newId(),
      subject: f.subject.trim(),
      description: f.description.trim(),
      requester: { name: f.name.trim(), contact: f.contact.trim(), account_id: f.account.trim() || null, tier: f.tier },
      channel: f.channel,
      language: f.language,
      category: f.category,
      priority: f.priority,
      risk: f.risk,
      department: f.department || null,
      tags: [],
    };
    setBusy(true);
    setError(null);
    try {
      const change = await desk.backend.change({ name: "ticket.create", args });
      props.onCreated(change.ticket.id);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("newticket.title")} onClose={props.onClose} testid="new-ticket" wide>
      <form class="new-ticket" onSubmit={create}>
        <label class="field">
          <span>{t("newticket.subject")}</span>
          <input data-testid="new-subject" value={form().subject} onInput={set("subject")} />
        </label>
        <label class="field">
          <span>{t("ticket.description")}</span>
          <textarea data-testid="new-description" rows={4} value={form().description} onInput={set("description")} />
        </label>
        <div class="grid-3">
          <label class="field">
            <span>{t("newticket.name")}</span>
            <input data-testid="new-name" value={form().name} onInput={set("name")} />
          </label>
          <label class="field">
            <span>{t("newticket.contact")}</span>
            <input data-testid="new-contact" value={form().contact} onInput={set("contact")} />
          </label>
          <label class="field">
            <span>{t("newticket.account")}</span>
            <input value={form().account} onInput={set("account")} />
          </label>
          <label class="field">
            <span>{t("newticket.tier")}</span>
            <select value={form().tier} onChange={set("tier")}>
              <For each={TIERS}>{(x) => <option value={x}>{t(`tier.${x}`)}</option>}</For>
            </select>
          </label>
          <label class="field">
            <span>{t("newticket.channel")}</span>
            <select value={form().channel} onChange={set("channel")}>
              <For each={CHANNELS}>{(x) => <option value={x}>{t(`channel.${x}`)}</option>}</For>
            </select>
          </label>
          <label class="field">
            <span>{t("newticket.language")}</span>
            <select value={form().language} onChange={set("language")}>
              <option value="en">English</option>
              <option value="zh-CN">简体中文</option>
            </select>
          </label>
          <label class="field">
            <span>{t("ticket.category")}</span>
            <select data-testid="new-category" value={form().category} onChange={set("category")}>
              <For each={categoriesInUse()}>{(x) => <option value={x}>{categoryLabel(x)}</option>}</For>
            </select>
          </label>
          <label class="field">
            <span>{t("ticket.priority")}</span>
            <select value={form().priority} onChange={set("priority")}>
              <For each={PRIORITIES}>{(x) => <option value={x}>{`${x} · ${t(`priority.${x}`)}`}</option>}</For>
            </select>
          </label>
          <label class="field">
            <span>{t("ticket.risk")}</span>
            <select value={form().risk} onChange={set("risk")}>
              <For each={RISKS}>{(x) => <option value={x}>{t(`risk.${x}`)}</option>}</For>
            </select>
          </label>
          <label class="field">
            <span>{t("ticket.department")}</span>
            <select data-testid="new-department" value={form().department} onChange={set("department")}>
              <Show when={!form().department}>
                <option value="">{t("newticket.pick_department")}</option>
              </Show>
              <For each={offered()}>{(d) => <option value={d.code}>{d.name}</option>}</For>
            </select>
          </label>
        </div>
        {error() ? (
          <p class="error" role="alert" data-testid="new-error">
            {error()}
          </p>
        ) : null}
        <footer class="dialog-actions">
          <button type="button" onClick={() => props.onClose()}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="primary" data-testid="new-create" disabled={busy()}>
            {t("newticket.create")}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
