import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { eventually } from "../../test/helpers";
import { adminBackend, lastArgs, renderAdmin } from "./testing";
import type { VerificationPolicy } from "./model";

async function openPolicy() {
  const mock = adminBackend();
  await renderAdmin(mock, "verification");
  await eventually(() => screen.getByTestId("verification-actions"));
  return mock;
}

describe("verification policy", () => {
  it("shows the minimums and requirements as stored", async () => {
    await openPolicy();
    expect((screen.getByTestId("verification-risk-l1") as HTMLInputElement).value).toBe("5");
    const reset = screen.getByTestId("verification-action-password_reset");
    expect((within(reset).getByTestId("verification-min") as HTMLInputElement).value).toBe("2");
    expect((within(reset).getByTestId("verification-dim-real_name_info") as HTMLInputElement).checked).toBe(true);
    expect((within(reset).getByTestId("verification-dim-sms_code") as HTMLInputElement).checked).toBe(false);
  });

  it("changes minimums per risk and per action and saves the policy", async () => {
    const mock = await openPolicy();
    fireEvent.change(screen.getByTestId("verification-risk-l2"), { target: { value: "4" } });
    const reset = screen.getByTestId("verification-action-password_reset");
    fireEvent.click(within(reset).getByTestId("verification-dim-sms_code"));
    fireEvent.click(within(reset).getByTestId("verification-dim-real_name_info"));
    const bind = screen.getByTestId("verification-action-bind_device");
    fireEvent.change(within(bind).getByTestId("verification-min"), { target: { value: "3" } });
    fireEvent.click(within(bind).getByTestId("verification-dim-usual_device"));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const args = lastArgs(mock, "change_settings") as { baseVersion: number; settings: { kind: string; doc: VerificationPolicy } };
    expect(args.baseVersion).toBe(1);
    expect(args.settings).toEqual({
      kind: "verification",
      doc: {
        requirements: [
          { action: "password_reset", min_passed: 2, required_dimensions: ["sms_code"] },
          { action: "bind_device", min_passed: 3, required_dimensions: ["usual_device"] },
        ],
        default_for_risk: { none: 2, l3: 2, l2: 4, l1: 5 },
      },
    });
  });

  it("shows the Desk's refusal", async () => {
    const mock = await openPolicy();
    mock.failNext("change_settings", "invalid", "verification: an L1 ticket needs at least as many checks as an L2 one");
    fireEvent.change(screen.getByTestId("verification-risk-l1"), { target: { value: "1" } });
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(screen.getByTestId("admin-save-status").textContent).toContain("at least as many checks"));
  });
});
