import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { AuditScreen, AUDIT_PAGE_SIZE } from "./AuditScreen";
import { deskContext, eventually, renderInDesk, supervisorBackend } from "../test/helpers";
import type { AuditPage, AuditQuery, ChainCheck, ExportCheck, QueuePage, SavedExport, TicketDetail } from "../backend";
import { FakeBackend, recorded, recordedError } from "../backend/mock";
import { setLang } from "../i18n";
import { en } from "../i18n/en";

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = "<script>window.__xss=1</script>";
const w = window as { __xss?: number };

afterEach(() => {
  delete w.__xss;
});

async function mount(mock: FakeBackend = supervisorBackend()) {
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <AuditScreen />);
  await eventually(() => expect(screen.getAllByTestId("audit-row").length).toBeGreaterThan(0));
  return mock;
}

const rows = () => screen.queryAllByTestId("audit-row");
const seqs = () => rows().map((r) => Number(r.dataset.seq));
const lastQuery = (mock: FakeBackend) => mock.callsTo("audit_page").at(-1)!.args.query as AuditQuery;
const page = (name: "audit_page.first" | "audit_page.second" | "audit_page.ticket" | "audit_page.views") => recorded<AuditPage>(name);

describe("audit table", () => {
  it("names tickets by key, looked up in the cache without recording views", async () => {
    const mock = await mount();
    await eventually(() => expect(mock.callsTo("ticket_keys").length).toBeGreaterThan(0));
    const first = page("audit_page.first");
    const ids = [...new Set(first.events.flatMap((e) => (e.ticket_id ? [e.ticket_id] : [])))];
    expect(new Set(mock.callsTo("ticket_keys")[0]!.args.ids as string[])).toEqual(new Set(ids));
    const queue = recorded<QueuePage>("queue.all").rows;
    const keyOf = (id: string) => queue.find((r) => r.id === id)!.key;
    await eventually(() => expect(within(rows()[0]!).getByText(keyOf(first.events[0]!.ticket_id!)!)).toBeTruthy());
    // A lookup is not a view: no ticket was read and no ticket.view was sent.
    expect(mock.callsTo("ticket")).toHaveLength(0);
    expect(mock.callsTo("change")).toHaveLength(0);
  });

  it("shows the server's page in its order and continues with before_seq", async () => {
    const first = page("audit_page.first");
    const second = page("audit_page.second");
    const mock = await mount(supervisorBackend().on("audit_page", first, second));
    expect(seqs()).toEqual(first.events.map((e) => e.seq));
    expect(lastQuery(mock)).toMatchObject({ before_seq: null, after_seq: null, limit: AUDIT_PAGE_SIZE });
    fireEvent.click(screen.getByTestId("audit-load-more"));
    await eventually(() => expect(rows()).toHaveLength(first.events.length + second.events.length));
    expect(lastQuery(mock)).toMatchObject({ before_seq: first.events.at(-1)!.seq, limit: AUDIT_PAGE_SIZE, after_seq: null });
    expect(seqs()).toEqual([...first.events, ...second.events].map((e) => e.seq));
    // The server said there is nothing more.
    expect(screen.queryByTestId("audit-load-more")).toBeNull();
  });

  it("sends the filters: action family, actor, ticket key and time", async () => {
    const mock = await mount();
    fireEvent.change(screen.getByTestId("audit-filter-action"), { target: { value: "ticket.view" } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ action: "ticket.view", before_seq: null }));
    fireEvent.change(screen.getByTestId("audit-filter-action"), { target: { value: "session." } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ action: "session." }));
    const sup = mock.me.user;
    fireEvent.change(screen.getByTestId("audit-filter-actor"), { target: { value: sup.id } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ actor: sup.id, action: "session." }));

    // A ticket by key: the Desk resolves it; the page shown is the server's answer.
    const ticketPage = page("audit_page.ticket");
    const ticketId = ticketPage.events[0]!.ticket_id!;
    const key = recorded<QueuePage>("queue.all").rows.find((r) => r.id === ticketId)!.key!;
    mock.on("audit_page", ticketPage);
    fireEvent.click(screen.getByTestId("audit-filter-clear"));
    fireEvent.change(screen.getByTestId("audit-filter-ticket"), { target: { value: key.toLowerCase() } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ ticket_id: ticketId, actor: null, action: null }));
    expect(mock.callsTo("resolve_key").at(-1)!.args).toEqual({ key: key.toLowerCase() });
    await eventually(() => expect(seqs()).toEqual(ticketPage.events.map((e) => e.seq)));

    fireEvent.change(screen.getByTestId("audit-filter-ticket"), { target: { value: "OP-99999" } });
    await eventually(() => expect(screen.getByTestId("audit-ticket-error").textContent).toBe(en["search.key_not_found"].replace("{key}", "OP-99999")));

    mock.on("audit_page", { ...page("audit_page.first"), events: [], has_more: false });
    fireEvent.click(screen.getByTestId("audit-filter-clear"));
    fireEvent.change(screen.getByTestId("audit-filter-from"), { target: { value: "2020-01-02T03:04" } });
    fireEvent.change(screen.getByTestId("audit-filter-to"), { target: { value: "2020-01-03T00:00" } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ from: new Date("2020-01-02T03:04").toISOString(), to: new Date("2020-01-03T00:00").toISOString() }));
    await eventually(() => expect(screen.getByTestId("audit-empty").textContent).toBe(en["audit.empty"]));
  });

  it("shows the selected event's before/after values and seals", async () => {
    const ticketPage = page("audit_page.ticket");
    await mount(supervisorBackend().on("audit_page", ticketPage));
    const record = ticketPage.events.find((e) => e.action === "ticket.set_status")!;
    const statusRow = rows().find((r) => Number(r.dataset.seq) === record.seq)!;
    expect(within(statusRow).getByTestId("audit-summary").textContent).toBe("Status: Triaged → In progress");
    fireEvent.click(statusRow);
    const detail = screen.getByTestId("audit-detail");
    expect(within(detail).getAllByTestId("audit-change").map((r) => r.textContent)).toEqual(["StatusTriagedIn progress"]);
    expect(within(detail).getByTestId("audit-detail-seq").textContent).toBe(String(record.seq));
    expect(within(detail).getByTestId("audit-detail-hash").textContent).toBe(record.hash);
    expect(within(detail).getByTestId("audit-detail-prev-hash").textContent).toBe(record.prev_hash);
    expect(within(detail).getByTestId("audit-detail-before").textContent).toBe(record.before);
    expect(within(detail).getByTestId("audit-detail-after").textContent).toBe(record.after);
    expect(within(detail).getByTestId("audit-detail-address").textContent).toBe(record.address);
  });

  it("opens the event's ticket as of that time and back", async () => {
    const views = page("audit_page.views");
    const after = recorded<TicketDetail>("ticket.sensitive.after_redact");
    const mock = await mount(supervisorBackend().on("audit_page", views).on("ticket", after));
    const event = views.events[0]!;
    fireEvent.click(rows()[0]!);
    fireEvent.click(screen.getByTestId("audit-open-ticket"));
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(after.ticket.key));
    expect(mock.callsTo("ticket").map((c) => c.args)).toEqual([{ id: event.ticket_id }]);
    expect(screen.getByTestId("as-of-banner").textContent).toContain("As of");
    // Entries made after the event (the redaction) are set apart.
    const expected = after.entries.filter((e) => Date.parse(e.created_at) > Date.parse(event.at)).length;
    expect(expected).toBeGreaterThan(0);
    const later = () => screen.getAllByTestId("timeline-entry").filter((e) => e.dataset.afterAsOf === "true");
    expect(later()).toHaveLength(expected);
    fireEvent.click(screen.getByTestId("as-of-back"));
    await eventually(() => expect(screen.queryByTestId("as-of-banner")).toBeNull());
    expect(later()).toHaveLength(0);
    fireEvent.click(screen.getByTestId("audit-back-to-event"));
    await eventually(() => screen.getByTestId("audit-detail"));
  });

  it("reloads the newest page on Refresh", async () => {
    const first = page("audit_page.first");
    const ticketPage = page("audit_page.ticket");
    const mock = await mount(supervisorBackend().on("audit_page", first, ticketPage));
    fireEvent.click(screen.getByTestId("audit-refresh"));
    await eventually(() => expect(seqs()).toEqual(ticketPage.events.map((e) => e.seq)));
    expect(mock.callsTo("audit_page").map((c) => (c.args.query as AuditQuery).before_seq)).toEqual([null, null]);
  });

  it("shows the calm offline line when the Desk cannot reach the server", async () => {
    const mock = supervisorBackend().on("audit_page", recordedError("audit_page.offline")).on("audit_verify", recordedError("audit_verify.offline"));
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <AuditScreen />);
    await eventually(() => expect(screen.getByTestId("audit-offline").textContent).toBe(en["audit.offline"]));
    expect(screen.queryByTestId("audit-error")).toBeNull();
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(screen.getByTestId("audit-verify-result").dataset.state).toBe("offline"));
    expect(screen.getByTestId("audit-verify-result").textContent).toBe(en["audit.offline_verify"]);
  });
});

describe("chain verification", () => {
  it("shows how far it has got while a long chain is read", async () => {
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const mock = supervisorBackend().on("audit_verify", async (_args, send) => {
      send({ checked: 5_000, head: 1_000_002 });
      await held;
      return recorded("audit_verify.ok");
    });
    await mount(mock);
    fireEvent.click(screen.getByTestId("audit-verify"));
    const result = () => screen.getByTestId("audit-verify-result");
    await eventually(() => expect(result().textContent).toBe("Verifying… 5,000 of 1,000,002 events checked on this computer"));
    expect(result().dataset.state).toBe("running");
    const bar = screen.getByTestId("audit-verify-progress") as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([5_000, 1_000_002]);
    expect((screen.getByTestId("audit-verify") as HTMLButtonElement).disabled).toBe(true);
    finish();
    await eventually(() => expect(result().dataset.state).toBe("ok"));
    expect(screen.queryByTestId("audit-verify-progress")).toBeNull();
  });

  it("reports the Desk's verified count and head, then the first broken event in words", async () => {
    const ok = recorded<ChainCheck>("audit_verify.ok");
    const broken = recorded<ChainCheck>("audit_verify.broken");
    const mock = await mount(supervisorBackend().on("audit_verify", ok, broken));
    fireEvent.click(screen.getByTestId("audit-verify"));
    const result = () => screen.getByTestId("audit-verify-result");
    await eventually(() => expect(result().dataset.state).toBe("ok"));
    expect(result().textContent).toBe(`✓ ${ok.checked} events verified, head ${ok.verified_head.hash.slice(0, 4)}… in 0.4 s`);

    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().dataset.state).toBe("broken"));
    const kind = broken.broken!.kind as { kind: "content_altered"; stored: string; computed: string };
    expect(kind.kind).toBe("content_altered");
    expect(result().textContent).toBe(
      `✗ Broken at event #${broken.broken!.seq}: its content was changed after it was sealed (stored hash ${kind.stored.slice(0, 8)}…, recomputed ${kind.computed.slice(0, 8)}…).`,
    );
    expect(mock.callsTo("audit_verify")).toHaveLength(2);

    setLang("zh-CN");
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().textContent).toMatch(new RegExp(`^✗ 第 #${broken.broken!.seq} 条事件处断裂：该事件在封存后内容被修改`)));
  });

  it("names a missing event and a rewritten history", async () => {
    const rewritten = recorded<ChainCheck>("audit_verify.rewritten");
    const missing = recorded<ChainCheck>("audit_verify.missing");
    await mount(supervisorBackend().on("audit_verify", rewritten, missing));
    const result = () => screen.getByTestId("audit-verify-result");
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().dataset.state).toBe("rewritten"));
    const previous = rewritten.previous!;
    expect(result().textContent).toBe(
      `✗ History rewritten: the head this computer verified last time (event #${previous.last_seq}, ${previous.hash.slice(0, 8)}…) is no longer part of the chain.`,
    );

    fireEvent.click(screen.getByTestId("audit-verify"));
    const gap = missing.broken!.kind as { kind: "sequence_gap"; expected: number; found: number };
    await eventually(() => expect(result().textContent).toBe(`✗ Broken at event #${missing.broken!.seq}: event #${gap.expected} is missing (the next one found is #${gap.found}).`));
  });
});

describe("exports", () => {
  it("sends the current filters and says where, how many, which range and head, and whether filtered", async () => {
    const saved = recorded<SavedExport>("audit_export.saved");
    const mock = await mount(supervisorBackend().on("audit_export", saved, { ...saved, header: { ...saved.header, filtered: true } }));
    expect(screen.getByTestId("audit-export-scope").textContent).toBe(en["audit.export.scope_all"].replace("{range}", en["audit.range.all"]));
    fireEvent.click(screen.getByTestId("audit-export-csv"));
    const result = () => screen.getByTestId("audit-export-result");
    await eventually(() => expect(result().dataset.state).toBe("done"));
    const h = saved.header;
    expect(result().textContent).toBe(
      `Saved to ${saved.file.path}: ${h.count} events (#${h.first_seq}–#${h.last_seq}), all time, chain head #${h.head.last_seq} ${h.head.hash.slice(0, 8)}…, not filtered.`,
    );
    expect(mock.callsTo("audit_export")[0]!.args).toMatchObject({ format: "csv", query: { action: null, limit: null } });

    fireEvent.change(screen.getByTestId("audit-filter-action"), { target: { value: "risk." } });
    await eventually(() => expect(screen.getByTestId("audit-export-scope").textContent).toBe(en["audit.export.scope_filtered"]));
    fireEvent.click(screen.getByTestId("audit-export-json"));
    await eventually(() => expect(result().textContent).toMatch(/, filtered\.$/));
    expect(mock.callsTo("audit_export").at(-1)!.args).toMatchObject({ format: "json", query: { action: "risk.", limit: null } });
  });

  it("sends a picked file's text to the Desk and shows its verdict: verified, tampered, unreadable", async () => {
    const exported = recorded<string>("audit_export.json_text");
    const edited = recorded<string>("audit_check_export.edited_text");
    const mock = supervisorBackend().on("audit_check_export", (args) =>
      recorded<ExportCheck>(args.text === exported ? "audit_check_export.verified" : args.text === edited ? "audit_check_export.problem" : "audit_check_export.unreadable"),
    );
    await mount(mock);
    const input = screen.getByTestId("audit-check-input") as HTMLInputElement;
    const result = () => screen.getByTestId("audit-check-result");
    const pick = (content: string, name: string) => fireEvent.change(input, { target: { files: [new File([content], name, { type: "application/json" })] } });

    pick(exported, "trail.json");
    await eventually(() => expect(result().dataset.state).toBe("verified"));
    const verified = recorded<ExportCheck>("audit_check_export.verified").header!;
    expect(result().textContent).toMatch(
      new RegExp(`^✓ trail\\.json verifies\\. It states ${verified.count} events \\(#1–#${verified.last_seq}\\), all time, chain head #${verified.head.last_seq} ${verified.head.hash.slice(0, 8)}…\\. Exported .* by .+\\. Its last event is the chain head it states\\.$`),
    );
    expect(mock.callsTo("audit_check_export").at(-1)!.args.text).toBe(exported);

    pick(edited, "edited.json");
    await eventually(() => expect(result().dataset.state).toBe("problem"));
    const problem = recorded<ExportCheck>("audit_check_export.problem").problem as { seq: number };
    expect(result().textContent).toMatch(new RegExp(`^✗ edited\\.json does not verify: event #${problem.seq}: its content was changed after it was sealed`));
    expect(mock.callsTo("audit_check_export").at(-1)!.args.text).toBe(edited);

    pick("name,amount\nx,1\n", "other.csv");
    await eventually(() => expect(result().dataset.state).toBe("unreadable"));
    expect(result().textContent).toBe(`✗ other.csv is not an Outpost audit export (${recorded<ExportCheck>("audit_check_export.unreadable").unreadable}).`);
  });
});

describe("hostile audit content", () => {
  it("renders actor, device, address and detail as text", async () => {
    const hostile = page("audit_page.first");
    const [plain, tagged] = hostile.events;
    Object.assign(plain!, { actor: "system", device: null, address: null, action: SCRIPT, ticket_id: null, detail: SCRIPT });
    Object.assign(tagged!, {
      actor: IMG,
      device: SCRIPT,
      address: IMG,
      action: "ticket.add_tag",
      detail: JSON.stringify({ changes: [{ type: "tag_added", tag: IMG }, { type: SCRIPT }, "junk", null] }),
    });
    await mount(supervisorBackend().on("audit_page", hostile));
    const [first, second] = rows();
    expect(within(first!).getByTestId("audit-summary").textContent).toBe(SCRIPT);
    expect(first!.textContent).toContain(SCRIPT);
    expect(within(second!).getByTestId("audit-actor").textContent).toBe(IMG);
    expect(within(second!).getByTestId("audit-device").getAttribute("title")).toBe(SCRIPT);
    expect(within(second!).getByTestId("audit-summary").textContent).toBe(`Tag added: ${IMG} · ${SCRIPT}`);
    fireEvent.click(second!);
    const detail = screen.getByTestId("audit-detail");
    expect(within(detail).getByTestId("audit-detail-device").textContent).toBe(SCRIPT);
    expect(within(detail).getByTestId("audit-detail-address").textContent).toBe(IMG);
    expect(within(detail).getByTestId("audit-detail-raw").textContent).toContain(SCRIPT);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("script")).toBeNull();
    expect(w.__xss).toBeUndefined();
  });
});
