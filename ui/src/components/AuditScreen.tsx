// The audit trail for supervisors: filters, the events page by page (newest first), the
// selected event's before/after values and seals, chain verification, exports and their check.
// The trail lives on the server: offline, the screen says so calmly and keeps what it showed.
import { batch, createEffect, createMemo, createSignal, For, on, Show } from "solid-js";
import { BackendError, type AuditQuery, type AuditRecord, type ChainCheck, type ExportCheck, type SavedExport, type VerifyProgress } from "../backend";
import { useDesk } from "../state/app";
import { errorText } from "../lib/errors";
import { formatTimestamp, fromLocalInput } from "../lib/time";
import {
  ACTION_FILTERS,
  actionFilterLabel,
  actionLabel,
  actorLabel,
  describeChange,
  emptyAuditQuery,
  explainBreak,
  headerText,
  parseDetail,
  rangeText,
  shortDevice,
  shortHash,
  summarise,
  valueChanges,
  type ActionFilter,
} from "../lib/audit";
import { knownKey, rememberKeys, ticketKeyOf } from "../lib/keys";
import { departmentLabel, locale, t } from "../i18n";
import { TicketPane } from "./TicketPane";

export const AUDIT_PAGE_SIZE = 100;

const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9]*-\d+$/;

type Loading = "idle" | "loading" | "offline" | "error";
type Verify = { kind: "running"; progress?: VerifyProgress } | { kind: "done"; check: ChainCheck } | { kind: "failed"; text: string; offline: boolean };
type Exported = { kind: "running" } | { kind: "done"; saved: SavedExport } | { kind: "failed"; text: string };
type Checked = { kind: "running" } | { kind: "done"; check: ExportCheck; name: string } | { kind: "failed"; text: string };

export function AuditScreen() {
  const desk = useDesk();
  const [from, setFrom] = createSignal("");
  const [to, setTo] = createSignal("");
  const [actor, setActor] = createSignal("");
  const [ticketText, setTicketText] = createSignal("");
  const [ticketId, setTicketId] = createSignal<string | null>(null);
  const [ticketError, setTicketError] = createSignal<string | null>(null);
  const [action, setAction] = createSignal<ActionFilter>("");
  const [department, setDepartment] = createSignal("");
  const [device, setDevice] = createSignal("");

  const [rows, setRows] = createSignal<AuditRecord[]>([]);
  const [hasMore, setHasMore] = createSignal(false);
  const [loading, setLoading] = createSignal<Loading>("idle");
  const [loadError, setLoadError] = createSignal<string | null>(null);
  const [selectedSeq, setSelectedSeq] = createSignal<number | null>(null);
  const [ticketView, setTicketView] = createSignal<{ id: string; at: string } | null>(null);
  const [verify, setVerify] = createSignal<Verify | null>(null);
  const [exported, setExported] = createSignal<Exported | null>(null);
  const [checked, setChecked] = createSignal<Checked | null>(null);
  let fileInput: HTMLInputElement | undefined;

  const fmt = (iso: string) => formatTimestamp(iso, locale());
  const count = (n: number) => new Intl.NumberFormat(locale()).format(n);

  const query = createMemo(
    (): AuditQuery => ({
      ...emptyAuditQuery(),
      from: fromLocalInput(from()),
      to: fromLocalInput(to()),
      actor: actor() || null,
      ticket_id: ticketId(),
      action: action() || null,
      department: department() || null,
      device: device().trim() || null,
    }),
    undefined,
    { equals: (a, b) => JSON.stringify(a) === JSON.stringify(b) },
  );
  const filtered = () => {
    const q = query();
    return !!(q.actor || q.ticket_id || q.action || q.department || q.device);
  };

  // The trail names tickets by id: their keys come from the cache (a lookup that records no
  // view). A failure only leaves short ids on screen.
  const lookUpKeys = async (events: AuditRecord[]) => {
    const missing = [...new Set(events.map((e) => e.ticket_id).filter((id): id is string => !!id && !knownKey(id)))];
    if (!missing.length) return;
    try {
      const pairs = await desk.backend.ticketKeys(missing);
      rememberKeys(pairs.map(([id, key]) => ({ id, key })));
    } catch {
      // Short ids stay; the table still works.
    }
  };

  let generation = 0;
  const load = async (more: boolean) => {
    const g = more ? generation : ++generation;
    const last = rows()[rows().length - 1];
    setLoading("loading");
    try {
      const page = await desk.backend.auditPage({ ...query(), before_seq: more && last ? last.seq : null, limit: AUDIT_PAGE_SIZE });
      if (g !== generation) return;
      void lookUpKeys(page.events);
      batch(() => {
        setRows(more ? [...rows(), ...page.events] : page.events);
        setHasMore(page.has_more);
        setLoading("idle");
        setLoadError(null);
        if (!more) setSelectedSeq(null);
      });
    } catch (raw) {
      if (g !== generation) return;
      const e = BackendError.from(raw);
      setLoading(e.code === "offline" ? "offline" : "error");
      setLoadError(errorText(e));
    }
  };
  createEffect(on(query, () => void load(false)));

  const selected = createMemo(() => rows().find((r) => r.seq === selectedSeq()) ?? null);

  const applyTicket = async (value: string) => {
    const text = value.trim();
    setTicketText(value);
    setTicketError(null);
    if (!text) return setTicketId(null);
    if (KEY_PATTERN.test(text)) {
      try {
        setTicketId(await desk.backend.resolveKey(text));
      } catch {
        setTicketError(t("search.key_not_found", { key: text.toUpperCase() }));
      }
      return;
    }
    setTicketId(text);
  };

  const clear = () =>
    batch(() => {
      setFrom("");
      setTo("");
      setActor("");
      setTicketText("");
      setTicketId(null);
      setTicketError(null);
      setAction("");
      setDepartment("");
      setDevice("");
    });

  const runVerify = async () => {
    setVerify({ kind: "running" });
    try {
      const check = await desk.backend.auditVerify((progress) => {
        if (verify()?.kind === "running") setVerify({ kind: "running", progress });
      });
      setVerify({ kind: "done", check });
    } catch (raw) {
      const e = BackendError.from(raw);
      setVerify({ kind: "failed", text: e.code === "offline" ? t("audit.offline_verify") : errorText(e), offline: e.code === "offline" });
    }
  };

  const runExport = async (format: "csv" | "json") => {
    setExported({ kind: "running" });
    try {
      setExported({ kind: "done", saved: await desk.backend.auditExport({ ...query(), limit: null }, format) });
    } catch (raw) {
      const e = BackendError.from(raw);
      setExported({ kind: "failed", text: e.code === "offline" ? t("audit.offline_export") : errorText(e) });
    }
  };

  const runCheck = async (file: File | undefined) => {
    if (!file) return;
    setChecked({ kind: "running" });
    try {
      const text = await file.text();
      setChecked({ kind: "done", check: await desk.backend.auditCheckExport(text), name: file.name });
    } catch (e) {
      setChecked({ kind: "failed", text: errorText(e) });
    } finally {
      if (fileInput) fileInput.value = "";
    }
  };

  const onRowKey = (e: KeyboardEvent, index: number) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      setSelectedSeq(rows()[index]?.seq ?? null);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = Math.max(0, Math.min(rows().length - 1, index + (e.key === "ArrowDown" ? 1 : -1)));
      const row = (e.currentTarget as HTMLElement).parentElement?.children[next] as HTMLElement | undefined;
      row?.focus();
      setSelectedSeq(rows()[next]?.seq ?? null);
    }
  };

  const users = () => desk.directory().users;

  return (
    <section class="screen audit" data-testid="audit-screen" aria-label={t("audit.title")}>
      <header class="screen-head">
        <h2>{t("audit.title")}</h2>
        <div class="screen-actions">
          <button type="button" data-testid="audit-refresh" disabled={loading() === "loading"} onClick={() => void load(false)}>
            {t("audit.refresh")}
          </button>
          <button type="button" data-testid="audit-verify" disabled={verify()?.kind === "running"} onClick={() => void runVerify()}>
            {t("audit.verify")}
          </button>
          <button type="button" data-testid="audit-export-csv" disabled={exported()?.kind === "running"} onClick={() => void runExport("csv")}>
            {t("audit.export_csv")}
          </button>
          <button type="button" data-testid="audit-export-json" disabled={exported()?.kind === "running"} onClick={() => void runExport("json")}>
            {t("audit.export_json")}
          </button>
          <button type="button" data-testid="audit-check" onClick={() => fileInput?.click()}>
            {t("audit.check")}
          </button>
          <input
            ref={fileInput}
            type="file"
            class="visually-hidden"
            accept=".csv,.json,text/csv,application/json"
            data-testid="audit-check-input"
            aria-label={t("audit.check")}
            onChange={(e) => void runCheck(e.currentTarget.files?.[0])}
          />
        </div>
      </header>
      <div class="audit-results">
        <Show when={verify()}>{(v) => <VerifyLine state={v()} count={count} />}</Show>
        <p class="muted export-scope" data-testid="audit-export-scope">
          {filtered() ? t("audit.export.scope_filtered") : t("audit.export.scope_all", { range: rangeText(query().from, query().to, fmt) })}
        </p>
        <Show when={exported()}>
          {(x) => (
            <p class="result-line" data-testid="audit-export-result" data-state={x().kind} role="status">
              <Show when={x().kind === "done" && (x() as { saved: SavedExport }).saved} fallback={x().kind === "running" ? t("audit.exporting") : (x() as { text: string }).text}>
                {(saved) =>
                  t("audit.export.saved", {
                    path: saved().file.path,
                    count: count(saved().header.count),
                    first: saved().header.first_seq,
                    last: saved().header.last_seq,
                    range: rangeText(saved().header.from, saved().header.to, fmt),
                    head_seq: saved().header.head.last_seq,
                    hash: shortHash(saved().header.head.hash),
                    filtered: saved().header.filtered ? t("audit.export.is_filtered") : t("audit.export.is_whole"),
                  })
                }
              </Show>
            </p>
          )}
        </Show>
        <Show when={checked()}>{(c) => <CheckLine state={c()} fmt={fmt} count={count} />}</Show>
      </div>
      <div class="audit-filters" data-testid="audit-filters">
        <label class="control">
          <span>{t("audit.filter.from")}</span>
          <input type="datetime-local" data-testid="audit-filter-from" value={from()} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label class="control">
          <span>{t("audit.filter.to")}</span>
          <input type="datetime-local" data-testid="audit-filter-to" value={to()} onChange={(e) => setTo(e.currentTarget.value)} />
        </label>
        <label class="control">
          <span>{t("audit.filter.actor")}</span>
          <select data-testid="audit-filter-actor" value={actor()} onChange={(e) => setActor(e.currentTarget.value)}>
            <option value="">{t("audit.filter.actor_any")}</option>
            <For each={users()}>{(u) => <option value={u.id}>{u.name}</option>}</For>
            <option value="system">{t("audit.actor.system")}</option>
            <option value="customer">{t("audit.actor.customer")}</option>
          </select>
        </label>
        <label class="control">
          <span>{t("audit.filter.ticket")}</span>
          <input
            type="text"
            data-testid="audit-filter-ticket"
            placeholder="OP-1042"
            value={ticketText()}
            onChange={(e) => void applyTicket(e.currentTarget.value)}
            onKeyDown={(e) => e.key === "Enter" && void applyTicket(e.currentTarget.value)}
          />
        </label>
        <label class="control">
          <span>{t("audit.filter.action")}</span>
          <select data-testid="audit-filter-action" value={action()} onChange={(e) => setAction(e.currentTarget.value as ActionFilter)}>
            <For each={ACTION_FILTERS}>{(a) => <option value={a}>{actionFilterLabel(a)}</option>}</For>
          </select>
        </label>
        <label class="control">
          <span>{t("audit.filter.department")}</span>
          <select data-testid="audit-filter-department" value={department()} onChange={(e) => setDepartment(e.currentTarget.value)}>
            <option value="">{t("audit.filter.department_any")}</option>
            <For each={desk.directory().departments}>{(d) => <option value={d.code}>{d.name}</option>}</For>
          </select>
        </label>
        <label class="control">
          <span>{t("audit.filter.device")}</span>
          <input
            type="text"
            data-testid="audit-filter-device"
            value={device()}
            onChange={(e) => setDevice(e.currentTarget.value)}
            onKeyDown={(e) => e.key === "Enter" && setDevice(e.currentTarget.value)}
          />
        </label>
        <button type="button" class="link" data-testid="audit-filter-clear" onClick={clear}>
          {t("audit.filter.clear")}
        </button>
        <Show when={ticketError()}>
          <p class="error" role="alert" data-testid="audit-ticket-error">
            {ticketError()}
          </p>
        </Show>
      </div>
      <div class="audit-body">
        <div class="audit-list">
          <Show when={loading() === "offline"}>
            <p class="offline-line" role="status" data-testid="audit-offline">
              {t("audit.offline")}
            </p>
          </Show>
          <Show when={loading() === "error"}>
            <p class="error" role="alert" data-testid="audit-error">
              {loadError()}
            </p>
          </Show>
          <div class="table-scroll audit-scroll">
            <table class="audit-table" data-testid="audit-table" data-loading={loading() === "loading" ? "true" : "false"}>
              <thead>
                <tr>
                  <th scope="col">{t("audit.col.time")}</th>
                  <th scope="col">{t("audit.col.actor")}</th>
                  <th scope="col">{t("audit.col.device")}</th>
                  <th scope="col">{t("audit.col.action")}</th>
                  <th scope="col">{t("audit.col.ticket")}</th>
                  <th scope="col">{t("audit.col.summary")}</th>
                </tr>
              </thead>
              <tbody>
                <For each={rows()}>
                  {(r, i) => (
                    <tr
                      data-testid="audit-row"
                      data-seq={r.seq}
                      data-action={r.action}
                      classList={{ selected: selectedSeq() === r.seq }}
                      aria-selected={selectedSeq() === r.seq}
                      tabIndex={0}
                      onClick={() => setSelectedSeq(r.seq)}
                      onKeyDown={(e) => onRowKey(e, i())}
                    >
                      <td class="nowrap">
                        <time dateTime={r.at}>{fmt(r.at)}</time>
                      </td>
                      <td data-testid="audit-actor">{actorLabel(r.actor, desk.directory())}</td>
                      <td class="mono nowrap" title={r.device ?? undefined} data-testid="audit-device">
                        {shortDevice(r.device)}
                      </td>
                      <td>{actionLabel(r.action)}</td>
                      <td class="nowrap">{r.ticket_id ? ticketKeyOf(r.ticket_id) : "—"}</td>
                      <td class="audit-summary" data-testid="audit-summary" title={summarise(r, desk.directory(), fmt)}>
                        {summarise(r, desk.directory(), fmt)}
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
            <Show when={loading() !== "loading" && loading() !== "offline" && !rows().length}>
              <p class="empty" data-testid="audit-empty">
                {t("audit.empty")}
              </p>
            </Show>
          </div>
          <div class="audit-foot">
            <span class="muted" data-testid="audit-count">
              {t("audit.count", { count: count(rows().length) })}
            </span>
            <Show when={hasMore()} fallback={<Show when={rows().length}>{<span class="muted">{t("audit.end")}</span>}</Show>}>
              <button type="button" data-testid="audit-load-more" disabled={loading() === "loading"} onClick={() => void load(true)}>
                {loading() === "loading" ? t("common.loading") : t("audit.load_more")}
              </button>
            </Show>
          </div>
        </div>
        <aside class="audit-side">
          <Show
            when={ticketView()}
            fallback={
              <Show when={selected()} fallback={<p class="empty">{t("audit.detail.select")}</p>}>
                {(r) => <AuditDetail record={r()} fmt={fmt} onOpen={(id, at) => setTicketView({ id, at })} />}
              </Show>
            }
          >
            {(view) => (
              <div class="audit-ticket">
                <button type="button" class="link" data-testid="audit-back-to-event" onClick={() => setTicketView(null)}>
                  ← {t("asof.back_to_event")}
                </button>
                <TicketPane ticketId={view().id} asOf={view().at} />
              </div>
            )}
          </Show>
        </aside>
      </div>
    </section>
  );
}

function VerifyLine(props: { state: Verify; count: (n: number) => string }) {
  const line = (): { state: string; text: string; progress?: VerifyProgress } => {
    const s = props.state;
    if (s.kind === "running") {
      const p = s.progress;
      return {
        state: "running",
        text: p ? t("audit.verifying_progress", { checked: props.count(p.checked), head: props.count(p.head) }) : t("audit.verifying"),
        progress: p,
      };
    }
    if (s.kind === "failed") return { state: s.offline ? "offline" : "error", text: s.text };
    const c = s.check;
    if (c.broken) return { state: "broken", text: t("audit.verify.broken", { seq: c.broken.seq, reason: explainBreak(c.broken.kind) }) };
    if (c.previous_matches === false && c.previous) {
      return { state: "rewritten", text: t("audit.verify.rewritten", { seq: c.previous.last_seq, hash: shortHash(c.previous.hash) }) };
    }
    const seconds = new Intl.NumberFormat(locale(), { maximumFractionDigits: c.seconds < 10 ? 1 : 0, minimumFractionDigits: c.seconds < 10 ? 1 : 0 }).format(c.seconds);
    return { state: "ok", text: t("audit.verify.ok", { count: props.count(c.checked), hash: shortHash(c.verified_head.hash, 4), seconds }) };
  };
  return (
    <p class="result-line" data-testid="audit-verify-result" data-state={line().state} role="status">
      {line().text}
      <Show when={line().progress}>
        {(p) => <progress data-testid="audit-verify-progress" max={Math.max(1, p().head)} value={p().checked} />}
      </Show>
    </p>
  );
}

function CheckLine(props: { state: Checked; fmt: (iso: string) => string; count: (n: number) => string }) {
  const desk = useDesk();
  const line = () => {
    const s = props.state;
    if (s.kind === "running") return { state: "running", text: t("audit.checking") };
    if (s.kind === "failed") return { state: "error", text: s.text };
    const c = s.check;
    if (c.unreadable !== null) return { state: "unreadable", text: t("audit.check.unreadable", { name: s.name, reason: c.unreadable }) };
    const header = c.header ? headerText(c.header, props.fmt, props.count) : "";
    if (c.verified) {
      const v = c.verified;
      return {
        state: "verified",
        text: [
          t("audit.check.verified", { name: s.name }),
          header,
          c.header ? t("audit.check.exported", { at: props.fmt(c.header.exported_at), who: actorLabel(c.header.exported_by, desk.directory()) }) : "",
          v.filtered ? t("audit.check.filtered") : "",
          v.reaches_head ? t("audit.check.reaches_head") : t("audit.check.before_head"),
        ]
          .filter(Boolean)
          .join(" "),
      };
    }
    const p = c.problem;
    let reason = "";
    if (p?.problem === "chain") reason = t("audit.check.problem.chain", { seq: p.seq, reason: explainBreak(p.kind) });
    else if (p?.problem === "header") reason = t("audit.check.problem.header", { detail: p.detail });
    else if (p?.problem === "anchor") reason = t("audit.check.problem.anchor", { seq: p.seq, hash: shortHash(p.expected) });
    return { state: "problem", text: [t("audit.check.failed", { name: s.name }), reason, header].filter(Boolean).join(" ") };
  };
  return (
    <p class="result-line" data-testid="audit-check-result" data-state={line().state} role="status">
      {line().text}
    </p>
  );
}

/** "OP-1042 (id)" when the key is known on this computer, else the id. */
function ticketLabel(id: string): string {
  const key = knownKey(id);
  return key ? `${key} (${id})` : id;
}

function AuditDetail(props: { record: AuditRecord; fmt: (iso: string) => string; onOpen: (ticketId: string, at: string) => void }) {
  const desk = useDesk();
  const detail = createMemo(() => parseDetail(props.record.detail));
  const changes = createMemo(() => [...detail().changes.map((c) => describeChange(c, desk.directory())), ...valueChanges(detail().object)]);
  const r = () => props.record;
  const field = (label: string, value: string | null, testid?: string, mono = false) => (
    <div>
      <dt>{label}</dt>
      <dd classList={{ mono }} data-testid={testid}>
        {value ?? "—"}
      </dd>
    </div>
  );
  return (
    <div class="audit-detail" data-testid="audit-detail" data-seq={r().seq}>
      <h3>{t("audit.detail.title", { seq: r().seq })}</h3>
      <dl class="detail-grid">
        {field(t("audit.detail.time"), props.fmt(r().at))}
        {field(
          t("audit.detail.actor"),
          actorLabel(r().actor, desk.directory()) !== r().actor && desk.directory().users.some((u) => u.id === r().actor)
            ? `${actorLabel(r().actor, desk.directory())} (${r().actor})`
            : actorLabel(r().actor, desk.directory()),
          "audit-detail-actor",
        )}
        {field(t("audit.detail.action"), `${actionLabel(r().action)} (${r().action})`)}
        {field(t("audit.detail.device"), r().device, "audit-detail-device", true)}
        {field(t("audit.detail.address"), r().address, "audit-detail-address", true)}
        {field(t("audit.detail.ticket"), r().ticket_id ? ticketLabel(r().ticket_id!) : null, "audit-detail-ticket")}
        {field(t("audit.detail.department"), r().department ? departmentLabel(r().department!) : null)}
        <Show when={detail().viewedAt}>{(v) => field(t("audit.detail.viewed_at"), props.fmt(v()))}</Show>
        <Show when={detail().revision !== null}>{field(t("audit.detail.revision"), String(detail().revision))}</Show>
      </dl>
      <h4>{t("audit.detail.changes")}</h4>
      <Show when={changes().length} fallback={<p class="muted">{t("audit.detail.no_changes")}</p>}>
        <table class="report-table" data-testid="audit-changes">
          <thead>
            <tr>
              <th scope="col">{t("audit.detail.field")}</th>
              <th scope="col">{t("audit.detail.before")}</th>
              <th scope="col">{t("audit.detail.after")}</th>
            </tr>
          </thead>
          <tbody>
            <For each={changes()}>
              {(c) => (
                <tr data-testid="audit-change">
                  <td>{c.field}</td>
                  <td>{c.before}</td>
                  <td>{c.after}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
      <h4>{t("audit.detail.seals")}</h4>
      <dl class="detail-grid hashes">
        {field(t("audit.detail.seq"), String(r().seq), "audit-detail-seq")}
        {field(t("audit.detail.before_hash"), r().before, "audit-detail-before", true)}
        {field(t("audit.detail.after_hash"), r().after, "audit-detail-after", true)}
        {field(t("audit.detail.prev_hash"), r().prev_hash, "audit-detail-prev-hash", true)}
        {field(t("audit.detail.hash"), r().hash, "audit-detail-hash", true)}
        <Show when={detail().removedSha256}>{(h) => field(t("audit.detail.removed_sha256"), h(), undefined, true)}</Show>
      </dl>
      <details class="raw-detail">
        <summary>{t("audit.detail.raw")}</summary>
        <pre data-testid="audit-detail-raw">{r().detail}</pre>
      </details>
      <Show when={r().ticket_id}>
        {(id) => (
          <button type="button" class="primary" data-testid="audit-open-ticket" onClick={() => props.onOpen(id(), r().at)}>
            {t("audit.detail.open_ticket")}
          </button>
        )}
      </Show>
    </div>
  );
}
