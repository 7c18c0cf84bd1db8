import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@solidjs/testing-library";
import { App } from "./App";
import { MOCK_PASSPHRASE, MOCK_PASSWORD, MOCK_TOTP, MockBackend } from "./backend/mock";
import { en } from "./i18n/en";
import { eventually, stubViewport } from "./test/helpers";

let restoreViewport: () => void;
beforeEach(() => {
  restoreViewport = stubViewport(560);
});
afterEach(() => {
  restoreViewport();
  vi.restoreAllMocks();
});

function start(options: ConstructorParameters<typeof MockBackend>[0] = {}) {
  const mock = new MockBackend({ latency: 0, tickets: 120, ...options });
  render(() => <App backend={mock} />);
  return mock;
}

function fillSignIn(email = "ana@example.com", password = MOCK_PASSWORD) {
  fireEvent.input(screen.getByTestId("signin-server"), { target: { value: "https://outpost.example.com" } });
  fireEvent.input(screen.getByTestId("signin-email"), { target: { value: email } });
  fireEvent.input(screen.getByTestId("signin-password"), { target: { value: password } });
}

const submit = () => fireEvent.click(screen.getByTestId("signin-submit"));

describe("sign-in", () => {
  const CODES = [
    "totp_required",
    "bad_credentials",
    "offline",
    "network",
    "no_keychain",
    "keychain_locked",
    "wrong_passphrase",
    "server_error",
    "invalid_url",
  ] as const;

  it.each(CODES)("explains %s", async (code) => {
    const mock = start();
    await eventually(() => screen.getByTestId("signin-submit"));
    mock.failNext("sign_in", code);
    fillSignIn();
    submit();
    await eventually(() => expect(screen.getByTestId("signin-error").textContent).toBe(en[`error.${code}`]));
  });

  it("shows the shell's message for an unknown code", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("signin-submit"));
    mock.failNext("sign_in", "quota_exceeded", "The organisation has no seats left.");
    fillSignIn();
    submit();
    await eventually(() => expect(screen.getByTestId("signin-error").textContent).toBe("The organisation has no seats left."));
  });

  it("asks for the TOTP code when required and retries with it", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("signin-submit"));
    expect(screen.queryByTestId("signin-totp")).toBeNull();
    fillSignIn("sam@example.com");
    submit();
    await eventually(() => screen.getByTestId("signin-totp"));
    fireEvent.input(screen.getByTestId("signin-totp"), { target: { value: MOCK_TOTP } });
    submit();
    await eventually(() => screen.getByTestId("desk"));
    const calls = mock.callsTo("sign_in");
    expect(calls.map((c) => c.args.totp)).toEqual([null, MOCK_TOTP]);
  });

  it("offers the passphrase path when the keychain is locked, and retries with it", async () => {
    const mock = start();
    await eventually(() => screen.getByTestId("signin-submit"));
    expect(screen.queryByTestId("signin-passphrase")).toBeNull();
    mock.failNext("sign_in", "keychain_locked");
    fillSignIn();
    submit();
    await eventually(() => screen.getByTestId("signin-passphrase"));
    fireEvent.input(screen.getByTestId("signin-passphrase"), { target: { value: "a long passphrase" } });
    submit();
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("sign_in").map((c) => c.args.passphrase)).toEqual([null, "a long passphrase"]);
  });

  it("starts with the passphrase field when there is no keychain", async () => {
    start({ keychain: "missing" });
    await eventually(() => screen.getByTestId("signin-passphrase"));
  });

  it("goes straight to the queue when the shell already signed in", async () => {
    start({ signedIn: true });
    await eventually(() => screen.getByTestId("queue-list"));
    expect(screen.queryByTestId("signin")).toBeNull();
  });
});

describe("lock", () => {
  it("shows the lock screen on a locked event and unlocks with the keychain", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    mock.emit({ kind: "locked" });
    await eventually(() => screen.getByTestId("lock-screen"));
    expect(screen.queryByTestId("desk")).toBeNull();
    expect(screen.queryByTestId("unlock-passphrase")).toBeNull();
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("unlock")[0]!.args).toEqual({ passphrase: null });
  });

  it("unlocks a passphrase profile only with the right passphrase", async () => {
    const mock = start({ signedIn: true, keychain: "missing" });
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.click(screen.getByTestId("lock"));
    await eventually(() => screen.getByTestId("lock-screen"));
    fireEvent.input(screen.getByTestId("unlock-passphrase"), { target: { value: "wrong one" } });
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await eventually(() => expect(screen.getByTestId("unlock-error").textContent).toBe(en["error.wrong_passphrase"]));
    fireEvent.input(screen.getByTestId("unlock-passphrase"), { target: { value: MOCK_PASSPHRASE } });
    fireEvent.click(screen.getByTestId("unlock-submit"));
    await eventually(() => screen.getByTestId("desk"));
    expect(mock.callsTo("lock")).toHaveLength(1);
  });

  it("tells the shell about activity at most once per 30 s", async () => {
    const mock = start({ signedIn: true });
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
  it("confirms before discarding unsent changes", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    await mock.note("t-00001", "not synced yet");
    await mock.note("t-00002", "nor this");
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.click(screen.getByTestId("sign-out"));
    const dialog = await eventually(() => screen.getByTestId("confirm-dialog"));
    expect(dialog.textContent).toContain("2 unsent changes will be lost");
    fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await eventually(() => screen.getByTestId("signin"));
    expect(mock.callsTo("sign_out").map((c) => c.args.discardUnsent)).toEqual([false, true]);
  });
});

describe("sync indicator and conflicts", () => {
  it("shows connectivity and unsent changes, calmly offline", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    const indicator = screen.getByTestId("sync-indicator");
    expect(indicator.dataset.state).toBe("online");
    expect(screen.getByTestId("unsent-count").textContent).toBe("0");
    mock.setOffline(true);
    await mock.reply("t-00003", "written on the train");
    await eventually(() => expect(indicator.dataset.state).toBe("offline"));
    await eventually(() => expect(screen.getByTestId("unsent-count").textContent).toBe("1"));
    expect(screen.getByTestId("offline-line").textContent).toBe(en["sync.offline_line"]);
  });

  it("re-applies and dismisses through the backend", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("sync-indicator"));
    const panel = await eventually(() => screen.getByTestId("conflicts-panel"));
    await eventually(() => expect(within(panel).getAllByTestId("conflict-record")).toHaveLength(2));
    expect(within(panel).getAllByTestId("problem-record")).toHaveLength(1);

    fireEvent.click(within(within(panel).getAllByTestId("conflict-record")[0]!).getByTestId("reapply"));
    await eventually(() => expect(within(panel).getAllByTestId("conflict-record")).toHaveLength(1));
    expect(mock.callsTo("reapply")[0]!.args).toEqual({ record: 1 });

    fireEvent.click(within(within(panel).getAllByTestId("problem-record")[0]!).getByTestId("dismiss"));
    await eventually(() => expect(within(panel).queryAllByTestId("problem-record")).toHaveLength(0));
    expect(mock.callsTo("dismiss")[0]!.args).toEqual({ record: 3 });
  });
});

describe("keyboard", () => {
  it("moves through the queue with j/k, opens help with ?, and ignores keys while typing", async () => {
    start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("view-all"));
    await eventually(() => expect(screen.getAllByTestId("queue-row")[1]?.dataset.key).toMatch(/^OP-/));
    const rows = screen.getAllByTestId("queue-row");
    fireEvent.keyDown(document.body, { key: "j" });
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(rows[0]!.dataset.key));
    fireEvent.keyDown(document.body, { key: "j" });
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(rows[1]!.dataset.key));
    fireEvent.keyDown(document.body, { key: "k" });
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe(rows[0]!.dataset.key));

    fireEvent.keyDown(screen.getByTestId("composer-text"), { key: "j" });
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByTestId("ticket-key").textContent).toBe(rows[0]!.dataset.key);

    fireEvent.keyDown(document.body, { key: "?" });
    await eventually(() => screen.getByTestId("help-overlay"));
    fireEvent.keyDown(document.body, { key: "Escape" });
    await eventually(() => expect(screen.queryByTestId("help-overlay")).toBeNull());

    fireEvent.keyDown(document.body, { key: "/" });
    expect(document.activeElement).toBe(screen.getByTestId("search-input"));
  });

  it("switches language everywhere", async () => {
    start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.change(screen.getByTestId("language-select"), { target: { value: "zh-CN" } });
    await eventually(() => expect(screen.getByTestId("view-my_open").textContent).toContain("我的待办"));
    expect(screen.getByTestId("search-input").getAttribute("placeholder")).toBe("搜索工单、客户、账户…");
  });
});

describe("new ticket", () => {
  it("creates a ticket locally with a client-minted id and opens it", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    fireEvent.click(screen.getByTestId("new-ticket-open"));
    const dialog = screen.getByTestId("new-ticket");
    fireEvent.click(within(dialog).getByTestId("new-create"));
    expect(within(dialog).getByTestId("new-error").textContent).toBe(en["newticket.missing"]);
    fireEvent.input(within(dialog).getByTestId("new-subject"), { target: { value: "电话报案：账户被盗" } });
    fireEvent.input(within(dialog).getByTestId("new-name"), { target: { value: "刘洋" } });
    fireEvent.input(within(dialog).getByTestId("new-contact"), { target: { value: "+86 138 0000 0000" } });
    fireEvent.click(within(dialog).getByTestId("new-create"));
    await eventually(() => expect(screen.queryByTestId("new-ticket")).toBeNull());
    const call = mock.callsTo("change")[0]!.args.mutation as { name: string; args: { id: string; subject: string } };
    expect(call.name).toBe("ticket.create");
    expect(call.args.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await eventually(() => expect(within(screen.getByTestId("ticket-pane")).getByText("电话报案：账户被盗")).toBeTruthy());
    expect(screen.getByTestId("ticket-key").textContent).toBe(en["ticket.unsynced_key"]);
  });
});

describe("alerts", () => {
  it("show the shell's alerts in the app and open the ticket on click", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("desk"));
    const target = mock.addTicket({ subject: "<b>Large transfer</b>", key: "OP-9001", priority: "P1" });
    mock.emit({ kind: "alert", alert: { kind: "new_p1", ticket_id: target.id, key: "OP-9001", subject: "<b>Large transfer</b>" } });
    mock.emit({ kind: "alert", alert: { kind: "conflict", count: 2 } });
    const alerts = await eventually(() => {
      const list = screen.getAllByTestId("alert");
      expect(list).toHaveLength(2);
      return list;
    });
    expect(alerts[0]!.textContent).toContain("2 of your changes were overridden");
    expect(alerts[1]!.querySelector("b")).toBeNull();
    fireEvent.click(alerts[1]!.querySelector(".alert-body")!);
    await eventually(() => expect(screen.getByTestId("ticket-key").textContent).toBe("OP-9001"));
    expect(screen.getAllByTestId("alert")).toHaveLength(1);
    fireEvent.click(screen.getByTestId("alert").querySelector(".alert-body")!);
    await eventually(() => screen.getByTestId("conflicts-panel"));
  });
});

describe("reference data", () => {
  it("re-reads users and templates when the whole cache changed", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => screen.getByTestId("queue-list"));
    const directory = vi.spyOn(mock, "directory");
    const templates = vi.spyOn(mock, "templates");
    mock.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: false } });
    await Promise.resolve();
    expect(directory).not.toHaveBeenCalled();
    mock.emit({ kind: "changes", notice: { tickets: [], revoked: [], everything: true } });
    await eventually(() => expect(directory).toHaveBeenCalledTimes(1));
    expect(templates).toHaveBeenCalledTimes(1);
  });
});

describe("start-up marks", () => {
  it("tells the shell once when the sign-in form and the queue are on screen", async () => {
    const signedOut = start();
    await eventually(() => screen.getByTestId("signin-submit"));
    expect(signedOut.startupMarks).toEqual(["signin-ready"]);
  });

  it("marks the queue once its first rows are shown", async () => {
    const mock = start({ signedIn: true });
    await eventually(() => expect(screen.getAllByTestId("queue-row").length).toBeGreaterThan(0));
    await eventually(() => expect(mock.startupMarks).toEqual(["queue-ready"]));
    fireEvent.click(screen.getByTestId("view-all"));
    await eventually(() => screen.getAllByTestId("queue-row"));
    expect(mock.startupMarks).toEqual(["queue-ready"]);
  });
});
