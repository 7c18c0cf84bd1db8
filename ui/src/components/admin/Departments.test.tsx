import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, answerView, lastArgs, renderAdmin, sampleView } from "./testing";

async function openDepartments() {
  const mock = adminBackend();
  await renderAdmin(mock, "departments");
  const rows = await eventually(() => {
    const r = screen.getAllByTestId("department-row");
    expect(r).toHaveLength(3);
    return r;
  });
  const row = (code: string) => screen.getAllByTestId("department-row").find((r) => r.dataset.code === code)!;
  return { mock, rows, row };
}

describe("departments", () => {
  it("lists active departments first with their state", async () => {
    const { rows } = await openDepartments();
    expect(rows.map((r) => r.dataset.code)).toEqual(["support", "risk", "legacy"]);
    expect(within(rows[2]!).getByTestId("department-state").textContent).toBe(en["admin.retired"]);
  });

  it("adds a department and shows the Desk's answer", async () => {
    const { mock } = await openDepartments();
    const after = sampleView();
    after.departments.push({ code: "billing", name: "Billing", active: true });
    answerView(mock, after);
    fireEvent.input(screen.getByTestId("department-new-code"), { target: { value: "billing" } });
    fireEvent.input(screen.getByTestId("department-new-name"), { target: { value: "Billing" } });
    fireEvent.click(screen.getByTestId("department-add"));
    await eventually(() => expect(mock.callsTo("put_department")).toHaveLength(1));
    expect(lastArgs(mock, "put_department")).toEqual({ department: { code: "billing", name: "Billing", active: true } });
    await eventually(() => expect((screen.getByTestId("department-new-code") as HTMLInputElement).value).toBe(""));
    expect(screen.getAllByTestId("department-row").map((r) => r.dataset.code)).toContain("billing");
    expect(mock.callsTo("org_settings")).toHaveLength(1);
  });

  it("renames, retires and restores", async () => {
    const { mock, row } = await openDepartments();
    fireEvent.input(within(row("risk")).getByTestId("department-name"), { target: { value: "Risk & fraud" } });
    fireEvent.click(within(row("risk")).getByTestId("department-rename"));
    await eventually(() => expect(mock.callsTo("put_department")).toHaveLength(1));
    expect(lastArgs(mock, "put_department")).toEqual({ department: { code: "risk", name: "Risk & fraud", active: true } });

    fireEvent.click(within(row("support")).getByTestId("department-toggle"));
    await eventually(() => expect(mock.callsTo("put_department")).toHaveLength(2));
    expect(lastArgs(mock, "put_department")).toEqual({ department: { code: "support", name: "Customer support", active: false } });

    fireEvent.click(within(row("legacy")).getByTestId("department-toggle"));
    await eventually(() => expect(mock.callsTo("put_department")).toHaveLength(3));
    expect(lastArgs(mock, "put_department")).toEqual({ department: { ...sampleView().departments[2], active: true } });
  });

  it("shows the Desk's refusal", async () => {
    const { mock, row } = await openDepartments();
    mock.failNext("put_department", "invalid", "active: this is the organisation's default department; choose another default first");
    fireEvent.click(within(row("support")).getByTestId("department-toggle"));
    await eventually(() => expect(screen.getByTestId("departments-status-line").textContent).toContain("choose another default first"));
    mock.failNext("put_department", "invalid", "code: must be 1 to 32 lowercase letters, digits, _ or - (such as billing)");
    fireEvent.input(screen.getByTestId("department-new-code"), { target: { value: "Billing Team" } });
    fireEvent.input(screen.getByTestId("department-new-name"), { target: { value: "Billing" } });
    fireEvent.click(screen.getByTestId("department-add"));
    await eventually(() => expect(screen.getByTestId("departments-status-line").textContent).toContain("lowercase letters"));
    expect((screen.getByTestId("department-new-code") as HTMLInputElement).value).toBe("Billing Team");
  });
});
