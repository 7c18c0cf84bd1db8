import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { IntakeKeysScreen } from "./IntakeKeys";
import { adminBackend } from "../../test/admin";
import { deskContext, eventually, renderInDesk } from "../../test/helpers";
import { recordedError } from "../../backend/mock";
import { en } from "../../i18n/en";

const KEYS = [
  { id: "01a0e570-0000-7000-8000-000000000001", name: "support mailbox", channel: "email" as const, created_at: "2026-11-02T09:00:00Z", revoked_at: null },
  { id: "01a0e570-0000-7000-8000-000000000002", name: "old chat widget", channel: "chat" as const, created_at: "2026-10-01T09:00:00Z", revoked_at: "2026-11-01T10:00:00Z" },
];

async function openKeys(...answers: unknown[]) {
  const mock = adminBackend().on("admin_intake_keys", ...(answers as object[]));
  const ctx = await deskContext(mock);
  renderInDesk(ctx, () => <IntakeKeysScreen />);
  return mock;
}

describe("intake keys", () => {
  it("lists keys with their state; only live ones can be revoked", async () => {
    await openKeys(KEYS);
    const rows = await eventually(() => {
      const r = screen.getAllByTestId("intake-key-row");
      expect(r).toHaveLength(2);
      return r;
    });
    expect(rows[0]!.dataset.revoked).toBe("false");
    expect(within(rows[0]!).getByTestId("intake-key-state").textContent).toBe(en["intakeKeys.active"]);
    expect(within(rows[0]!).getByTestId("intake-key-channel").textContent).toBe(en["channel.email"]);
    expect(within(rows[1]!).getByTestId("intake-key-state").textContent).toMatch(/^Revoked /);
    expect(within(rows[0]!).queryByTestId("intake-key-revoke")).toBeTruthy();
    expect(within(rows[1]!).queryByTestId("intake-key-revoke")).toBeNull();
  });

  it("creates a key and shows it once; a name is required", async () => {
    const made = { id: "01a0e570-0000-7000-8000-000000000003", name: "website form", channel: "api" as const, key: "opk_live_9f3c2a7d1e" };
    const after = [...KEYS, { id: made.id, name: made.name, channel: made.channel, created_at: "2026-12-07T11:00:00Z", revoked_at: null }];
    const mock = await openKeys(KEYS, after);
    mock.on("admin_add_intake_key", made);
    await eventually(() => expect(screen.getAllByTestId("intake-key-row")).toHaveLength(2));
    fireEvent.click(screen.getByTestId("intake-key-create"));
    expect(screen.getByTestId("intake-key-error").textContent).toBe(en["intakeKeys.name_required"]);
    expect(mock.callsTo("admin_add_intake_key")).toHaveLength(0);
    fireEvent.input(screen.getByTestId("intake-key-name"), { target: { value: " website form " } });
    fireEvent.click(screen.getByTestId("intake-key-create"));
    await eventually(() => expect(screen.getByTestId("intake-key-secret-value").textContent).toBe("opk_live_9f3c2a7d1e"));
    expect(Object.values(mock.callsTo("admin_add_intake_key")[0]!.args)).toEqual(["website form"]);
    expect(screen.getByTestId("intake-key-secret").textContent).toContain(en["adminUsers.shown_once"]);
    await eventually(() => expect(screen.getAllByTestId("intake-key-row")).toHaveLength(3));
    fireEvent.click(screen.getByTestId("intake-key-created-close"));
    expect(screen.queryByTestId("intake-key-secret")).toBeNull();
    expect(document.body.textContent).not.toContain("opk_live_9f3c2a7d1e");
  });

  it("revokes only after confirmation", async () => {
    const revoked = [{ ...KEYS[0]!, revoked_at: "2026-12-07T11:05:00Z" }, KEYS[1]!];
    const mock = await openKeys(KEYS, revoked);
    mock.on("admin_revoke_intake_key", null);
    const first = await eventually(() => screen.getAllByTestId("intake-key-row")[0]!);
    fireEvent.click(within(first).getByTestId("intake-key-revoke"));
    expect(screen.getByTestId("confirm-dialog").textContent).toContain("support mailbox");
    fireEvent.click(screen.getByText(en["common.cancel"]));
    expect(mock.callsTo("admin_revoke_intake_key")).toHaveLength(0);
    fireEvent.click(within(first).getByTestId("intake-key-revoke"));
    fireEvent.click(screen.getByTestId("intake-key-revoke-confirm"));
    await eventually(() => expect(screen.getAllByTestId("intake-key-row")[0]!.dataset.revoked).toBe("true"));
    expect(Object.values(mock.callsTo("admin_revoke_intake_key")[0]!.args)).toEqual([KEYS[0]!.id]);
  });

  it("says when the server cannot be reached", async () => {
    await openKeys(recordedError("admin_intake_keys.offline"));
    await eventually(() => expect(screen.getByTestId("intake-keys-load-error").textContent).toBe(en["adminUsers.offline"]));
  });
});
