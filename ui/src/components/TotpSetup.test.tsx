import { describe, expect, it } from "vitest";
import { fireEvent, screen } from "@solidjs/testing-library";
import { UserMenu } from "./UserMenu";
import { groupSecret } from "./TotpSetup";
import { deskContext, eventually, mockBackend, renderInDesk } from "../test/helpers";
import { BackendError, type SyncStatus, type TotpSecret } from "../backend";
import { errorText } from "../lib/errors";
import { en } from "../i18n/en";

const SECRET: TotpSecret = {
  secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ",
  otpauth_url: "otpauth://totp/Outpost:ann%40acme.example?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ&issuer=Outpost",
};

/** The status the Desk reports while the organisation's requirement holds. */
function setupRequired(): SyncStatus {
  return {
    connectivity: { state: "error", reason: en["error.totp_setup_required"], sign_in_again: false, totp_setup_required: true },
    unsent: 0,
    conflicts: 0,
    problems: 0,
    bootstrapping: false,
  };
}

describe("two-step sign-in enrolment", () => {
  it("groups the secret in fours", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPJB")).toBe("JBSW Y3DP EHPK 3PXP JB");
    expect(groupSecret("")).toBe("");
  });

  it("takes over the desk while the organisation requires it, and lets it go once enabled", async () => {
    const mock = mockBackend();
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <UserMenu />);
    expect(screen.queryByTestId("totp-setup")).toBeNull();

    ctx.emit({ kind: "status", status: setupRequired() });
    await eventually(() => expect(screen.getByTestId("totp-required").textContent).toBe(en["error.totp_setup_required"]));
    expect(screen.queryByTestId("totp-close")).toBeNull();

    // No password: nothing is sent.
    fireEvent.click(screen.getByTestId("totp-start"));
    expect(screen.getByTestId("totp-error").textContent).toBe(en["totp.password_needed"]);

    // A wrong password shows the Desk's refusal; the right one shows the secret.
    const wrong = new BackendError("bad_credentials", "the e-mail or password is wrong");
    mock.on("totp_setup", wrong, SECRET);
    fireEvent.input(screen.getByTestId("totp-password"), { target: { value: "nope" } });
    fireEvent.click(screen.getByTestId("totp-start"));
    await eventually(() => expect(screen.getByTestId("totp-error").textContent).toBe(errorText(wrong)));
    fireEvent.input(screen.getByTestId("totp-password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByTestId("totp-start"));
    await eventually(() => expect(screen.getByTestId("totp-secret").textContent).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXQ"));
    expect(screen.getByTestId("totp-link").textContent).toBe(SECRET.otpauth_url);
    expect(mock.callsTo("totp_setup").map((c) => c.args)).toEqual([
      { password: "nope", code: null },
      { password: "correct horse", code: null },
    ]);

    // Not six digits: refused here. A code the server does not accept: its reason.
    fireEvent.input(screen.getByTestId("totp-code"), { target: { value: "12a" } });
    fireEvent.click(screen.getByTestId("totp-enable"));
    expect(screen.getByTestId("totp-error").textContent).toBe(en["totp.code_format"]);
    expect(mock.callsTo("totp_enable")).toEqual([]);
    const mismatch = new BackendError("bad_request", "the code does not match; check the authenticator's clock and try again");
    mock.on("totp_enable", mismatch, null);
    fireEvent.input(screen.getByTestId("totp-code"), { target: { value: "123 456" } });
    fireEvent.click(screen.getByTestId("totp-enable"));
    await eventually(() => expect(screen.getByTestId("totp-error").textContent).toBe(errorText(mismatch)));

    fireEvent.input(screen.getByTestId("totp-code"), { target: { value: "654321" } });
    fireEvent.click(screen.getByTestId("totp-enable"));
    await eventually(() => expect(screen.queryByTestId("totp-setup")).toBeNull());
    expect(mock.callsTo("totp_enable").map((c) => c.args)).toEqual([{ code: "123456" }, { code: "654321" }]);
    expect(screen.getByTestId("totp-enabled").textContent).toContain(en["totp.enabled"]);
  });

  it("opens from the user menu for anyone, asks for the current code to replace one, and closes", async () => {
    const mock = mockBackend();
    const ctx = await deskContext(mock);
    renderInDesk(ctx, () => <UserMenu />);
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.click(screen.getByTestId("totp-open"));
    expect(screen.queryByTestId("totp-required")).toBeNull();

    mock.on("totp_setup", new BackendError("totp_required", "enter the code from your authenticator app"), SECRET);
    fireEvent.input(screen.getByTestId("totp-password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByTestId("totp-start"));
    await eventually(() => expect(screen.getByTestId("totp-error").textContent).toBe(en["totp.current_code_needed"]));
    fireEvent.input(screen.getByTestId("totp-password"), { target: { value: "correct horse" } });
    fireEvent.input(screen.getByTestId("totp-current-code"), { target: { value: " 111222 " } });
    fireEvent.click(screen.getByTestId("totp-start"));
    await eventually(() => expect(screen.getByTestId("totp-secret")).toBeTruthy());
    expect(mock.callsTo("totp_setup").at(-1)!.args).toEqual({ password: "correct horse", code: "111222" });

    fireEvent.click(screen.getByTestId("totp-close"));
    expect(screen.queryByTestId("totp-setup")).toBeNull();
    expect(mock.callsTo("totp_enable")).toEqual([]);
  });
});
