import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { AuditScreen, AUDIT_PAGE_SIZE } from "./AuditScreen";
import { deskContext, eventually, renderInDesk, supervisorBackend } from "../test/helpers";
import type { AuditQuery } from "../backend";
import type { MockBackend } from "../backend/mock";
import { setLang } from "../i18n";

const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = "<script>window.__xss=1</script>";
const w = window as { __xss?: number };

afterEach(() => {
  delete w.__xss;
});

async function mount(mock: MockBackend = supervisorBackend({ tickets: 60 })) {
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <AuditScreen />);
  await eventually(() => expect(screen.getAllByTestId("audit-row").length).toBeGreaterThan(0));
  return mock;
}

const rows = () => screen.queryAllByTestId("audit-row");
const seqs = () => rows().map((r) => Number(r.dataset.seq));
const lastQuery = (mock: MockBackend) => mock.callsTo("audit_page").at(-1)!.args.query as AuditQuery;

describe("audit table", () => {
  it("names tickets by key, looked up in the cache without recording views", async () => {
    const mock = await mount();
    await eventually(() => expect(mock.callsTo("ticket_keys").length).toBeGreaterThan(0));
    const asked = mock.callsTo("ticket_keys")[0]!.args.ids as string[];
    expect(asked.length).toBeGreaterThan(0);
    await eventually(() => expect(rows().some((r) => within(r).queryByText(/^OP-\d+$/))).toBe(true));
    // A lookup is not a view: no ticket was read and no ticket.view was sent.
    expect(mock.callsTo("ticket")).toHaveLength(0);
    expect(mock.callsTo("change").filter((c) => (c.args.mutation as { name: string }).name === "ticket.view")).toHaveLength(0);
  });

  it("pages newest first and continues with before_seq", async () => {
    const mock = await mount();
    const head = mock.audit.head().last_seq;
    await eventually(() => expect(rows()).toHaveLength(AUDIT_PAGE_SIZE));
    expect(seqs()[0]).toBe(head);
    expect(seqs()).toEqual([...seqs()].sort((a, b) => b - a));
    const last = seqs().at(-1)!;
    fireEvent.click(screen.getByTestId("audit-load-more"));
    await eventually(() => expect(rows()).toHaveLength(2 * AUDIT_PAGE_SIZE));
    expect(lastQuery(mock)).toMatchObject({ before_seq: last, limit: AUDIT_PAGE_SIZE, after_seq: null });
    expect(new Set(seqs()).size).toBe(2 * AUDIT_PAGE_SIZE);
    expect(seqs()[AUDIT_PAGE_SIZE]).toBe(last - 1);
  });

  it("filters by action family, exact action, actor, ticket key and time", async () => {
    const mock = await mount();
    fireEvent.change(screen.getByTestId("audit-filter-action"), { target: { value: "ticket.view" } });
    await eventually(() => expect(rows().every((r) => r.dataset.action === "ticket.view")).toBe(true));
    expect(lastQuery(mock)).toMatchObject({ action: "ticket.view", before_seq: null });

    fireEvent.change(screen.getByTestId("audit-filter-action"), { target: { value: "session." } });
    await eventually(() => expect(rows().length).toBeGreaterThan(0));
    await eventually(() => expect(rows().every((r) => r.dataset.action === "session.login")).toBe(true));

    fireEvent.change(screen.getByTestId("audit-filter-actor"), { target: { value: "u-sam" } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ actor: "u-sam", action: "session." }));
    await eventually(() => expect(rows().map((r) => within(r).getByTestId("audit-actor").textContent)).toEqual(rows().map(() => "Sam Patel")));

    fireEvent.click(screen.getByTestId("audit-filter-clear"));
    fireEvent.change(screen.getByTestId("audit-filter-ticket"), { target: { value: "op-1003" } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ ticket_id: "t-00004", actor: null, action: null }));
    expect(mock.callsTo("resolve_key").at(-1)!.args).toEqual({ key: "op-1003" });
    await eventually(() => expect(rows().length).toBeGreaterThan(0));

    fireEvent.change(screen.getByTestId("audit-filter-ticket"), { target: { value: "OP-99999" } });
    await eventually(() => expect(screen.getByTestId("audit-ticket-error").textContent).toBe("No ticket OP-99999 in the local cache."));

    fireEvent.click(screen.getByTestId("audit-filter-clear"));
    fireEvent.change(screen.getByTestId("audit-filter-from"), { target: { value: "2020-01-02T03:04" } });
    fireEvent.change(screen.getByTestId("audit-filter-to"), { target: { value: "2020-01-03T00:00" } });
    await eventually(() => expect(lastQuery(mock)).toMatchObject({ from: new Date("2020-01-02T03:04").toISOString(), to: new Date("2020-01-03T00:00").toISOString() }));
    await eventually(() => expect(screen.getByTestId("audit-empty").textContent).toContain("No audit events match these filters"));
  });

  it("shows the selected event's before/after values and seals, and opens the ticket as of that time", async () => {
    let clock = Date.now() - 3_600_000;
    const mock = supervisorBackend({ tickets: 30, now: () => clock });
    const t = mock.addTicket({ subject: "Refund", status: "triaged", assignee: "u-ana", created_at: new Date(clock - 60_000).toISOString() });
    clock += 60_000;
    await mock.change({ name: "ticket.set_status", args: { ticket_id: t.id, status: "in_progress", reason: null } });
    clock += 60_000;
    await mock.note(t.id, "called the bank");
    await mount(mock);

    fireEvent.change(screen.getByTestId("audit-filter-ticket"), { target: { value: t.key! } });
    await eventually(() => expect(rows().map((r) => r.dataset.action)).toEqual(["entry.add_note", "ticket.set_status", "ticket.create"]));
    const statusRow = rows()[1]!;
    expect(within(statusRow).getByTestId("audit-summary").textContent).toBe("Status: Triaged → In progress");
    fireEvent.click(statusRow);
    const detail = screen.getByTestId("audit-detail");
    const record = mock.audit.all().find((r) => r.seq === Number(statusRow.dataset.seq))!;
    expect(within(detail).getAllByTestId("audit-change").map((r) => r.textContent)).toEqual(["StatusTriagedIn progress"]);
    expect(within(detail).getByTestId("audit-detail-seq").textContent).toBe(String(record.seq));
    expect(within(detail).getByTestId("audit-detail-hash").textContent).toBe(record.hash);
    expect(within(detail).getByTestId("audit-detail-prev-hash").textContent).toBe(record.prev_hash);
    expect(within(detail).getByTestId("audit-detail-before").textContent).toBe(record.before);
    expect(within(detail).getByTestId("audit-detail-after").textContent).toBe(record.after);
    expect(within(detail).getByTestId("audit-detail-address").textContent).toBe("192.0.2.10");

    fireEvent.click(screen.getByTestId("audit-open-ticket"));
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(t.key));
    expect(screen.getByTestId("as-of-banner").textContent).toContain("As of");
    const later = () => screen.getAllByTestId("timeline-entry").filter((e) => e.dataset.afterAsOf === "true");
    expect(later().map((e) => e.dataset.kind)).toEqual(["note"]);
    fireEvent.click(screen.getByTestId("as-of-back"));
    await eventually(() => expect(screen.queryByTestId("as-of-banner")).toBeNull());
    expect(later()).toHaveLength(0);
    fireEvent.click(screen.getByTestId("audit-back-to-event"));
    await eventually(() => screen.getByTestId("audit-detail"));
  });

  it("reloads the newest page on Refresh", async () => {
    const mock = await mount();
    const head = mock.audit.head().last_seq;
    await mock.change({ name: "ticket.set_priority", args: { ticket_id: "t-00003", priority: "P1" } });
    expect(seqs()[0]).toBe(head);
    fireEvent.click(screen.getByTestId("audit-refresh"));
    await eventually(() => expect(seqs()[0]).toBe(head + 1));
    expect(within(rows()[0]!).getByTestId("audit-summary").textContent).toMatch(/^Priority: P\d → P1$/);
  });

  it("shows the calm offline line when the server cannot be reached", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    mock.setOffline(true);
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <AuditScreen />);
    await eventually(() => expect(screen.getByTestId("audit-offline").textContent).toBe("Offline — the audit trail is read from the server. It shows here when the server can be reached."));
    expect(screen.queryByTestId("audit-error")).toBeNull();
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(screen.getByTestId("audit-verify-result").dataset.state).toBe("offline"));
  });
});

describe("chain verification", () => {
  it("shows how far it has got while a long chain is read", async () => {
    const mock = await mount();
    const real = mock.auditVerify.bind(mock);
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    mock.auditVerify = async (onProgress) => {
      onProgress?.({ checked: 5_000, head: 1_000_002 });
      await held;
      return real(onProgress);
    };
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

  it("reports the verified count and head, then the first broken event in words", async () => {
    const mock = await mount();
    fireEvent.click(screen.getByTestId("audit-verify"));
    const result = () => screen.getByTestId("audit-verify-result");
    const head = mock.audit.head();
    await eventually(() => expect(result().dataset.state).toBe("ok"));
    expect(result().textContent).toMatch(new RegExp(`^✓ ${head.last_seq} events verified, head ${head.hash.slice(0, 4)}… in \\d+\\.\\d s$`));

    mock.audit.alter(9, { detail: '{"changes":[]}' });
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().dataset.state).toBe("broken"));
    expect(result().textContent).toMatch(/^✗ Broken at event #9: its content was changed after it was sealed \(stored hash [0-9a-f]{8}…, recomputed [0-9a-f]{8}…\)\.$/);

    setLang("zh-CN");
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().textContent).toMatch(/^✗ 第 #9 条事件处断裂：该事件在封存后内容被修改/));
  });

  it("names a missing event and a rewritten history", async () => {
    const mock = await mount();
    const result = () => screen.getByTestId("audit-verify-result");
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().dataset.state).toBe("ok"));

    const verifiedHead = mock.audit.head();
    mock.audit.rewrite(verifiedHead.last_seq - 3, { actor: "u-li" });
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().dataset.state).toBe("rewritten"));
    expect(result().textContent).toBe(
      `✗ History rewritten: the head this computer verified last time (event #${verifiedHead.last_seq}, ${verifiedHead.hash.slice(0, 8)}…) is no longer part of the chain.`,
    );

    mock.audit.remove(5);
    fireEvent.click(screen.getByTestId("audit-verify"));
    await eventually(() => expect(result().textContent).toBe("✗ Broken at event #6: event #5 is missing (the next one found is #6)."));
  });
});

describe("exports", () => {
  it("saves the current filters' events and says where, how many, which range and head, and whether filtered", async () => {
    const mock = await mount();
    const head = mock.audit.head();
    expect(screen.getByTestId("audit-export-scope").textContent).toBe("Exports include every event (all time).");
    fireEvent.click(screen.getByTestId("audit-export-csv"));
    const result = () => screen.getByTestId("audit-export-result");
    await eventually(() => expect(result().dataset.state).toBe("done"));
    const path = `/home/sam/Downloads/outpost-audit-1-${head.last_seq}.csv`;
    expect(result().textContent).toBe(
      `Saved to ${path}: ${head.last_seq} events (#1–#${head.last_seq}), all time, chain head #${head.last_seq} ${head.hash.slice(0, 8)}…, not filtered.`,
    );
    expect(mock.savedFiles.get(path)!.split("\r\n")[0]).toBe("# outpost-audit-export/1");

    fireEvent.change(screen.getByTestId("audit-filter-action"), { target: { value: "risk." } });
    await eventually(() => expect(screen.getByTestId("audit-export-scope").textContent).toContain("only the events matching the current filters"));
    fireEvent.click(screen.getByTestId("audit-export-json"));
    await eventually(() => expect(result().textContent).toMatch(/\.json: \d+ events .*, filtered\.$/));
    expect(mock.callsTo("audit_export").at(-1)!.args).toMatchObject({ format: "json", query: { action: "risk." } });
  });

  it("checks an export file the user picks: verified, tampered, unreadable", async () => {
    const mock = await mount();
    fireEvent.click(screen.getByTestId("audit-export-json"));
    await eventually(() => expect(screen.getByTestId("audit-export-result").dataset.state).toBe("done"));
    const text = [...mock.savedFiles.values()][0]!;
    const input = screen.getByTestId("audit-check-input") as HTMLInputElement;
    const result = () => screen.getByTestId("audit-check-result");
    const pick = (content: string, name: string) => fireEvent.change(input, { target: { files: [new File([content], name, { type: "application/json" })] } });

    pick(text, "trail.json");
    await eventually(() => expect(result().dataset.state).toBe("verified"));
    expect(result().textContent).toMatch(/^✓ trail\.json verifies\. It states \d+ events \(#1–#\d+\), all time, chain head #\d+ [0-9a-f]{8}…\. Exported .* by Sam Patel\. Its last event is the chain head it states\.$/);

    const json = JSON.parse(text);
    json.events[2].detail = '{"changes":[{"type":"status_changed","from":"new","to":"closed"}]}';
    pick(JSON.stringify(json), "edited.json");
    await eventually(() => expect(result().dataset.state).toBe("problem"));
    expect(result().textContent).toMatch(/^✗ edited\.json does not verify: event #3: its content was changed after it was sealed/);
    expect(mock.callsTo("audit_check_export").at(-1)!.args.text).toBe(JSON.stringify(json));

    pick("name,amount\nx,1\n", "other.csv");
    await eventually(() => expect(result().dataset.state).toBe("unreadable"));
    expect(result().textContent).toMatch(/^✗ other\.csv is not an Outpost audit export \(/);
  });
});

describe("hostile audit content", () => {
  it("renders actor, device, address and detail as text", async () => {
    const mock = supervisorBackend({ tickets: 10 });
    const at = new Date().toISOString();
    mock.audit.append({
      at,
      actor: IMG,
      device: SCRIPT,
      address: IMG,
      action: "ticket.add_tag",
      ticket_id: "t-00001",
      before: IMG,
      after: SCRIPT,
      detail: JSON.stringify({ changes: [{ type: "tag_added", tag: IMG }, { type: SCRIPT }, "junk", null] }),
      department: "support",
    });
    mock.audit.append({ at, actor: "system", device: null, address: null, action: SCRIPT, ticket_id: null, before: null, after: null, detail: SCRIPT, department: null });
    await mount(mock);
    const [plain, tagged] = rows();
    expect(within(plain!).getByTestId("audit-summary").textContent).toBe(SCRIPT);
    expect(plain!.textContent).toContain(SCRIPT);
    expect(within(tagged!).getByTestId("audit-actor").textContent).toBe(IMG);
    expect(within(tagged!).getByTestId("audit-device").getAttribute("title")).toBe(SCRIPT);
    expect(within(tagged!).getByTestId("audit-summary").textContent).toBe(`Tag added: ${IMG} · ${SCRIPT}`);
    fireEvent.click(tagged!);
    const detail = screen.getByTestId("audit-detail");
    expect(within(detail).getByTestId("audit-detail-device").textContent).toBe(SCRIPT);
    expect(within(detail).getByTestId("audit-detail-address").textContent).toBe(IMG);
    expect(within(detail).getByTestId("audit-detail-raw").textContent).toContain(SCRIPT);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("script")).toBeNull();
    expect(w.__xss).toBeUndefined();
  });
});
