import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@solidjs/testing-library";
import { App } from "./App";
import { BackendError, type ConflictRecord, type Directory, type ErrorCode, type LocalChange, type Me, type OrgSettingsView, type SyncProblem, type SyncStatus, type TicketDetail } from "./backend";
import { FakeBackend, recorded, recordedError } from "./backend/mock";
import { en } from "./i18n/en";
import { errorText } from "./lib/errors";
import { eventually, firstRun, mockBackend, openableQueue, stubViewport } from "./test/helpers";

let restoreViewport: () => void;
beforeEach(() => {
  restoreViewport = stubViewport(560);
  localStorage.clear();
});
afterEach(() => {
  restoreViewport();
  vi.restoreAllMocks();
});

function start(mock: FakeBackend = mockBackend()) {
  render(() => <App backend={mock} />);
  return mock;
}

const SERVER = "https://outpost.example.com";
const EMAIL = "chen.jing@outpost.example";

function fillSignIn(password = "correct horse") {
  fireEvent.input(screen.getByTestId("signin-server"), { target: { value: SERVER } });
  fireEvent.input(screen.getByTestId("signin-email"), { target: { value: EMAIL } });
  fireEvent.input(screen.getByTestId("signin-password"), { target: { value: password } });
}

const submit = () => fireEvent.click(screen.getByTestId("signin-submit"));

describe("sign-in", () => {
  // Codes the shell sends at sign-in whose text stands alone. Refusals that need a server
  // (bad credentials, TOTP) are not in the offline recording: the code is what the UI reads.
  const CODES = ["totp_required", "bad_credentials", "offline", "no_keychain", "wrong_passphrase", "wrong_key", "io"] as const;

  it.each(CODES)("explains %s", async (code) => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    mock.failNext("sign_in", code);
    fillSignIn();
    submit();
    await eventually(() => expect(screen.getByTestId("signin-error").textContent).toBe(en[`error.${code}`]));
  });

  it("sends the form to the Desk and shows its refusal when the server cannot be reached", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    const refusal = recordedError("sign_in.offline");
    mock.on("sign_in", refusal);
    fillSignIn();
    submit();
    await eventually(() => expect(screen.getByTestId("signin-error").textContent).toBe(en["error.offline"]));
    expect(errorText(refusal)).toBe(en["error.offline"]);
    expect(mock.callsTo("sign_in").map((c) => c.args)).toEqual([{ server: SERVER, email: EMAIL, password: "correct horse", totp: null, passphrase: null }]);
    expect(screen.queryByTestId("desk")).toBeNull();
  });

  it("asks for every field before calling the Desk", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    fireEvent.input(screen.getByTestId("signin-email"), { target: { value: EMAIL } });
    submit();
    expect(screen.getByTestId("signin-error").textContent).toBe(en["signin.fill_all"]);
    expect(mock.callsTo("sign_in")).toHaveLength(0);
  });

  it("explains a refusal from the server with the server's reason as details", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    mock.failNext("sign_in", "conflict", "the organisation has no seats left (409 conflict)");
    fillSignIn();
    submit();
    await eventually(() =>
      expect(screen.getByTestId("signin-error").textContent).toBe(
        en["error.conflict"].replace("{message}", "the organisation has no seats left (409 conflict)"),
      ),
    );
  });

  it("shows the shell's message for an unknown code", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    // A code only a newer shell could send (every code of this build has a text).
    mock.failNext("sign_in", "quota_exceeded" as ErrorCode, "The organisation has no seats left.");
    fillSignIn();
    submit();
    await eventually(() => expect(screen.getByTestId("signin-error").textContent).toBe("The organisation has no seats left."));
  });

  it("asks for the TOTP code when required and retries with it", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    expect(screen.queryByTestId("signin-totp")).toBeNull();
    mock.failNext("sign_in", "totp_required");
    fillSignIn();
    submit();
    await eventually(() => screen.getByTestId("signin-totp"));
    fireEvent.input(screen.getByTestId("signin-totp"), { target: { value: "123456" } });
    submit();
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("sign_in").map((c) => c.args.totp)).toEqual([null, "123456"]);
  });

  it("offers the passphrase path when the keychain is unavailable, and retries with it", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    expect(screen.queryByTestId("signin-passphrase")).toBeNull();
    // The shell reports a locked keychain as `no_keychain`: both offer the passphrase.
    mock.failNext("sign_in", "no_keychain");
    fillSignIn();
    submit();
    await eventually(() => screen.getByTestId("signin-passphrase"));
    fireEvent.input(screen.getByTestId("signin-passphrase"), { target: { value: "a long passphrase" } });
    submit();
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("sign_in").map((c) => c.args.passphrase)).toEqual([null, "a long passphrase"]);
  });

  it("starts with the passphrase field when there is no keychain", async () => {
    start(firstRun({ keychain: "missing" }));
    await eventually(() => screen.getByTestId("signin-passphrase"));
  });

  it("goes straight to the queue when the shell already signed in", async () => {
    start();
    await eventually(() => screen.getByTestId("queue-list"));
    expect(screen.queryByTestId("signin")).toBeNull();
  });
});

describe("lock", () => {
  it("shows the lock screen on a locked event and unlocks with the keychain", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("desk"));
    mock.emit({ kind: "locked" });
    await eventually(() => screen.getByTestId("lock-screen"));
    expect(screen.queryByTestId("desk")).toBeNull();
    expect(screen.queryByTestId("unlock-passphrase")).toBeNull();
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("unlock").map((c) => c.args)).toEqual([{ passphrase: null }]);
  });

  it("shows the Desk's refusal of a wrong passphrase and unlocks with the next one", async () => {
    // A passphrase profile (no keychain): the Desk decides whether a passphrase opens the cache.
    const mock = start(mockBackend({ keychain: "missing" }));
    await eventually(() => screen.getByTestId("desk"));
    mock.on("unlock", recordedError("unlock.wrong_passphrase"), recorded<Me>("me.agent"));
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.click(screen.getByTestId("lock"));
    await eventually(() => screen.getByTestId("lock-screen"));
    expect(mock.callsTo("lock")).toHaveLength(1);
    fireEvent.input(screen.getByTestId("unlock-passphrase"), { target: { value: "wrong one" } });
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await eventually(() => expect(screen.getByTestId("unlock-error").textContent).toBe(en["error.wrong_passphrase"]));
    expect(screen.queryByTestId("desk")).toBeNull();
    fireEvent.input(screen.getByTestId("unlock-passphrase"), { target: { value: "the right one" } });
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("unlock").map((c) => c.args.passphrase)).toEqual(["wrong one", "the right one"]);
  });

  it("tells the shell about activity at most once per 30 s", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("desk"));
    let clock = Date.now();
    vi.spyOn(Date, "now").mockImplementation(() => clock);
    for (let i = 0; i < 5; i++) fireEvent.keyDown(document.body, { key: "x" });
    fireEvent.pointerDown(document.body);
    expect(mock.callsTo("activity")).toHaveLength(1);
    clock += 29_000;
    fireEvent.keyDown(document.body, { key: "x" });
    expect(mock.callsTo("activity")).toHaveLength(1);
    clock += 2_000;
    fireEvent.pointerDown(document.body);
    expect(mock.callsTo("activity")).toHaveLength(2);
  });
});

describe("sign-out", () => {
  it("confirms with the Desk's count of unsent changes before discarding them", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("desk"));
    // The Desk refuses while changes are unsent; its status says how many.
    mock.on("sign_out", recordedError("sign_out.unsent"), null);
    const unsent = recorded<SyncStatus>("sync_status.offline").unsent;
    expect(unsent).toBeGreaterThan(0);
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.click(screen.getByTestId("sign-out"));
    const dialog = await eventually(() => screen.getByTestId("confirm-dialog"));
    expect(dialog.textContent).toContain(en["session.unsent_lost"].replace("{count}", String(unsent)));
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await eventually(() => screen.getByTestId("signin"));
    expect(mock.callsTo("sign_out").map((c) => c.args.discardUnsent)).toEqual([false, true]);
  });
});

describe("sync indicator and conflicts", () => {
  it("shows the Desk's connectivity and unsent count, calmly offline", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("desk"));
    const before = recorded<SyncStatus>("sync_status.offline");
    const indicator = screen.getByTestId("sync-indicator");
    await eventually(() => expect(indicator.dataset.state).toBe(before.connectivity.state));
    expect(screen.getByTestId("unsent-count").textContent).toBe(String(before.unsent));
    expect(screen.queryByTestId("offline-line")).toBeNull();

    // The shell streams the status after a sync attempt that could not reach the server.
    const after = recorded<SyncStatus>("sync_status.after_failed_sync");
    expect(after.connectivity.state).toBe("offline");
    mock.emit({ kind: "status", status: after });
    await eventually(() => expect(indicator.dataset.state).toBe("offline"));
    expect(screen.getByTestId("unsent-count").textContent).toBe(String(after.unsent));
    expect(indicator.getAttribute("title")).toBe(en["sync.offline_detail"]);
    expect(screen.getByTestId("offline-line").textContent).toBe(en["sync.offline_line"]);
  });

  it("lists the Desk's conflicts and sync problems, and re-applies and dismisses through it", async () => {
    const mock = start();
    const conflicts = recorded<ConflictRecord[]>("conflicts");
    const problems = recorded<SyncProblem[]>("sync_problems");
    mock
      .on("sync_status", recorded("sync_status.with_issues"))
      .on("conflicts", () => recorded(mock.callsTo("dismiss").length ? "conflicts.after_dismiss" : "conflicts"))
      .on("sync_problems", () => recorded(mock.callsTo("reapply").length ? "sync_problems.after_reapply" : "sync_problems"))
      .on("reapply", recorded<LocalChange>("reapply.problem"))
      .on("dismiss", recorded("dismiss.conflict"))
      .on("sync_now", recordedError("sync_now.offline"));
    await eventually(() => screen.getByTestId("desk"));
    await eventually(() => expect(screen.getByTestId("sync-issues").textContent).toBe(en["sync.issues"].replace("{count}", String(conflicts.length + problems.length))));
    fireEvent.click(screen.getByTestId("sync-indicator"));
    const panel = await eventually(() => screen.getByTestId("conflicts-panel"));
    const conflict = await eventually(() => within(panel).getByTestId("conflict-record"));
    expect(conflict.textContent).toContain(en[`mutation.${conflicts[0]!.mutation.name}` as keyof typeof en]);
    expect(within(conflict).getAllByTestId("customer-text").map((e) => e.textContent)).toEqual([conflicts[0]!.yours, conflicts[0]!.winner]);
    const problem = within(panel).getByTestId("problem-record");
    expect(problem.textContent).toContain(en[`mutation.${problems[0]!.mutation.name}` as keyof typeof en]);
    // The refusal in the user's language, with the server's own words beside it.
    expect(within(problem).getByTestId("problem-text").textContent).toBe(errorText(new BackendError(problems[0]!.code, problems[0]!.reason)));
    expect(within(problem).getByTestId("problem-text").textContent).toBe(en[`error.${problems[0]!.code}` as keyof typeof en].replace("{message}", problems[0]!.reason));
    expect(within(problem).getByTestId("problem-reason").textContent).toBe(problems[0]!.reason);
    expect(problem.textContent).toContain(problems[0]!.code);

    fireEvent.click(within(problem).getByTestId("reapply"));
    await eventually(() => expect(within(panel).queryAllByTestId("problem-record")).toHaveLength(0));
    expect(mock.callsTo("reapply").map((c) => c.args)).toEqual([{ record: problems[0]!.id }]);

    fireEvent.click(within(within(panel).getByTestId("conflict-record")).getByTestId("dismiss"));
    await eventually(() => expect(within(panel).queryAllByTestId("conflict-record")).toHaveLength(0));
    expect(mock.callsTo("dismiss").map((c) => c.args)).toEqual([{ record: conflicts[0]!.id }]);

    // "Sync now" with the server out of reach: the Desk's refusal, in words.
    fireEvent.click(within(panel).getByTestId("sync-now"));
    await eventually(() => expect(within(panel).getByRole("alert").textContent).toBe(errorText(recordedError("sync_now.offline"))));
  });

  it("lists a refused settings edit without a ticket to open or a change to re-apply", async () => {
    const mock = start();
    const base = recorded<SyncProblem[]>("sync_problems")[0]!;
    const view = recorded<OrgSettingsView>("org_settings");
    const refused: SyncProblem = {
      ...base,
      ticket_id: null,
      mutation: { name: "settings.set", args: { base_version: 0, settings: view.settings.sla.settings } },
      code: "conflict",
      reason: "the sla settings were changed (version 1) after this edit was made on version 0",
    };
    mock
      .on("sync_status", recorded("sync_status.with_issues"))
      .on("sync_problems", [refused]);
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("sync-indicator"));
    const panel = await eventually(() => screen.getByTestId("conflicts-panel"));
    const problem = await eventually(() => within(panel).getByTestId("problem-record"));
    expect(problem.textContent).toContain(en["mutation.settings.set"]);
    expect(within(problem).getByTestId("problem-reason").textContent).toBe(refused.reason);
    expect(within(problem).queryByTestId("reapply")).toBeNull();
    expect(within(problem).queryByText(en["conflicts.open_ticket"])).toBeNull();
    expect(within(problem).getByTestId("dismiss")).toBeTruthy();
  });
});

describe("keyboard", () => {
  it("moves through the queue with j/k, opens help with ?, and ignores keys while typing", async () => {
    const mock = mockBackend();
    const page = openableQueue(mock);
    expect(page.rows.length).toBeGreaterThan(1);
    start(mock);
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("view-all"));
    await eventually(() => expect(screen.getAllByTestId("queue-row")[1]?.dataset.key).toBe(page.rows[1]!.key));
    const keys = page.rows.map((r) => r.key);
    fireEvent.keyDown(document.body, { key: "j" });
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(keys[0]));
    fireEvent.keyDown(document.body, { key: "j" });
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(keys[1]));
    fireEvent.keyDown(document.body, { key: "k" });
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(keys[0]));
    expect(mock.callsTo("ticket").map((c) => c.args.id)).toEqual([page.rows[0]!.id, page.rows[1]!.id, page.rows[0]!.id]);

    fireEvent.keyDown(screen.getByTestId("composer-text"), { key: "j" });
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByTestId("ticket-key").textContent).toBe(keys[0]);

    fireEvent.keyDown(document.body, { key: "?" });
    await eventually(() => screen.getByTestId("help-overlay"));
    fireEvent.keyDown(document.body, { key: "Escape" });
    await eventually(() => expect(screen.queryByTestId("help-overlay")).toBeNull());

    fireEvent.keyDown(document.body, { key: "/" });
    expect(document.activeElement).toBe(screen.getByTestId("search-input"));
  });

  it("switches language everywhere and saves it through the shell", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.change(screen.getByTestId("language-select"), { target: { value: "zh-CN" } });
    await eventually(() => expect(screen.getByTestId("view-my_open").textContent).toContain("我的待办"));
    expect(screen.getByTestId("search-input").getAttribute("placeholder")).toBe("搜索工单、客户、账户…");
    expect(mock.callsTo("settings_set").map((c) => c.args.settings)).toEqual([{ idle_lock_minutes: 15, theme: "system", language: "zh-CN" }]);
  });
});

describe("new ticket", () => {
  it("sends ticket.create with a client-minted id and opens the ticket the Desk answered with", async () => {
    const mock = start();
    const created = recorded<LocalChange>("change.create");
    mock.on("change", created);
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("new-ticket-open"));
    const dialog = screen.getByTestId("new-ticket");
    fireEvent.click(within(dialog).getByTestId("new-create"));
    expect(within(dialog).getByTestId("new-error").textContent).toBe(en["newticket.missing"]);
    expect(mock.callsTo("change")).toHaveLength(0);
    fireEvent.input(within(dialog).getByTestId("new-subject"), { target: { value: created.ticket.subject } });
    fireEvent.input(within(dialog).getByTestId("new-name"), { target: { value: created.ticket.requester.name } });
    fireEvent.input(within(dialog).getByTestId("new-contact"), { target: { value: created.ticket.requester.contact } });
    fireEvent.click(within(dialog).getByTestId("new-create"));
    await eventually(() => expect(screen.queryByTestId("new-ticket")).toBeNull());
    const sent = mock.callsTo("change")[0]!.args.mutation as { name: string; args: Record<string, unknown> };
    expect(sent.name).toBe("ticket.create");
    expect(sent.args.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sent.args).toMatchObject({
      subject: created.ticket.subject,
      requester: { name: created.ticket.requester.name, contact: created.ticket.requester.contact, account_id: null, tier: "standard" },
      channel: "phone",
      department: recorded<Me>("me.agent").user.departments[0],
    });
    await eventually(() => expect(within(screen.getByTestId("ticket-pane")).getByText(created.ticket.subject)).toBeTruthy());
    expect(mock.callsTo("ticket").at(-1)!.args).toEqual({ id: created.ticket.id });
    // Not synced yet: the Desk has no human key for it.
    expect(created.ticket.key).toBeNull();
    expect(screen.getByTestId("ticket-key").textContent).toBe(en["ticket.unsynced_key"]);
  });

  it("shows the Desk's refusal and keeps the form", async () => {
    const mock = start();
    const refusal = recordedError("change.create.again");
    mock.on("change", refusal);
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("new-ticket-open"));
    const dialog = screen.getByTestId("new-ticket");
    fireEvent.input(within(dialog).getByTestId("new-subject"), { target: { value: "电话报案：账户被盗" } });
    fireEvent.input(within(dialog).getByTestId("new-name"), { target: { value: "刘洋" } });
    fireEvent.input(within(dialog).getByTestId("new-contact"), { target: { value: "+86 138 0000 0000" } });
    fireEvent.click(within(dialog).getByTestId("new-create"));
    await eventually(() => expect(within(dialog).getByTestId("new-error").textContent).toBe(errorText(refusal)));
    expect(within(dialog).getByTestId("new-error").textContent).toContain(refusal.message);
    expect(screen.getByTestId("new-ticket")).toBe(dialog);
    expect(mock.callsTo("ticket")).toHaveLength(0);
  });
});

describe("alerts", () => {
  it("show the shell's alerts in the app and open the ticket on click", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("desk"));
    const target = recorded<TicketDetail>("ticket.plain").ticket;
    mock.emit({ kind: "alert", alert: { kind: "new_p1", ticket_id: target.id, key: target.key, subject: "<b>Large transfer</b>" } });
    mock.emit({ kind: "alert", alert: { kind: "conflict", count: 2 } });
    const alerts = await eventually(() => {
      const list = screen.getAllByTestId("alert");
      expect(list).toHaveLength(2);
      return list;
    });
    expect(alerts[0]!.textContent).toContain(en["alert.conflict"].replace("{count}", "2"));
    expect(within(alerts[1]!).getByTestId("customer-text").textContent).toBe("<b>Large transfer</b>");
    expect(alerts[1]!.querySelector("b")).toBeNull();
    fireEvent.click(alerts[1]!.querySelector(".alert-body")!);
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(target.key));
    expect(mock.callsTo("ticket").at(-1)!.args).toEqual({ id: target.id });
    expect(screen.getAllByTestId("alert")).toHaveLength(1);
    fireEvent.click(screen.getByTestId("alert").querySelector(".alert-body")!);
    await eventually(() => screen.getByTestId("conflicts-panel"));
  });
});

describe("reference data", () => {
  it("re-reads users and templates when the whole cache changed", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("queue-list"));
    const directory = mock.callsTo("directory").length;
    const templates = mock.callsTo("templates").length;
    mock.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: false } });
    await new Promise((r) => setTimeout(r, 20));
    expect(mock.callsTo("directory")).toHaveLength(directory);
    mock.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: true } });
    await eventually(() => expect(mock.callsTo("directory")).toHaveLength(directory + 1));
    expect(mock.callsTo("templates")).toHaveLength(templates + 1);
  });

  it("shows a department added while the app runs, by name", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("queue-list"));
    expect(screen.queryByTestId("department-vip")).toBeNull();
    const before = recorded<Directory>("directory");
    mock.on("directory", { ...before, departments: [...before.departments, { code: "vip", name: "VIP 贵宾服务", active: true }] });
    // A pull brought the department: the shell says the reference data changed.
    mock.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: false, reference: true } });
    await eventually(() => expect(screen.getByTestId("department-vip").textContent).toContain("VIP 贵宾服务"));
    expect(screen.getByTestId(`department-${before.departments[0]!.code}`).textContent).toContain(before.departments[0]!.name);
  });
});

describe("start-up marks", () => {
  const marks = (mock: FakeBackend) => mock.callsTo("startup_mark").map((c) => c.args.name);

  it("tells the shell once when the sign-in form is on screen", async () => {
    const mock = start(firstRun());
    await eventually(() => screen.getByTestId("signin-submit"));
    await eventually(() => expect(marks(mock)).toEqual(["signin-ready"]));
  });

  it("marks the queue once its first rows are shown", async () => {
    const mock = start();
    await eventually(() => expect(screen.getAllByTestId("queue-row").length).toBeGreaterThan(0));
    await eventually(() => expect(marks(mock)).toEqual(["queue-ready"]));
    fireEvent.click(screen.getByTestId("view-all"));
    await eventually(() => screen.getAllByTestId("queue-row"));
    expect(marks(mock)).toEqual(["queue-ready"]);
  });
});
