import { describe, expect, it } from "vitest";
import { fireEvent, screen, within } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, adminMe, lastArgs, renderAdmin, sampleView } from "./testing";
import type { MonthDay } from "../../backend";
import type { BusinessCalendar, SlaSettings } from "./model";

async function openCalendar() {
  const mock = adminBackend();
  mock.on("calendar_effect", { open: 12, moved: 3 });
  await renderAdmin(mock, "calendar");
  await eventually(() => screen.getByTestId("calendar-tz"));
  return mock;
}

const savedSla = (mock: ReturnType<typeof adminBackend>) => (lastArgs(mock, "change_settings") as { settings: { doc: SlaSettings } }).settings.doc;

describe("business hours and holidays", () => {
  it("shows the zone, weekly hours and closed days", async () => {
    await openCalendar();
    const tz = screen.getByTestId("calendar-tz") as HTMLSelectElement;
    expect(tz.value).toBe("Asia/Shanghai");
    expect([...tz.options].some((o) => o.value === "Europe/Lisbon")).toBe(true);
    const monday = screen.getByTestId("hours-monday");
    expect((within(monday).getByTestId("interval-start") as HTMLInputElement).value).toBe("09:00");
    expect((within(monday).getByTestId("interval-end") as HTMLInputElement).value).toBe("18:00");
    expect(within(screen.getByTestId("hours-sunday")).getByTestId("interval-closed").textContent).toBe(en["admin.calendar.closed"]);
  });

  it("sets Lisbon hours with a lunch break and a holiday, shows the effect, and saves", async () => {
    const mock = await openCalendar();
    expect(screen.getByTestId("calendar-effect").dataset.state).toBe("none");
    fireEvent.change(screen.getByTestId("calendar-tz"), { target: { value: "Europe/Lisbon" } });
    const monday = screen.getByTestId("hours-monday");
    fireEvent.change(within(monday).getByTestId("interval-end"), { target: { value: "12:30" } });
    fireEvent.click(within(monday).getByTestId("interval-add"));
    const second = await eventually(() => {
      const all = within(monday).getAllByTestId("interval");
      expect(all).toHaveLength(2);
      return all[1]!;
    });
    fireEvent.change(within(second).getByTestId("interval-start"), { target: { value: "14:00" } });
    fireEvent.change(within(second).getByTestId("interval-end"), { target: { value: "00:00" } });
    // Saturday: opened for the morning.
    fireEvent.click(within(screen.getByTestId("hours-saturday")).getByTestId("interval-add"));

    fireEvent.input(screen.getByTestId("holiday-new-date"), { target: { value: "2026-06-13" } });
    fireEvent.input(screen.getByTestId("holiday-new-name"), { target: { value: "Santo António" } });
    fireEvent.click(screen.getByTestId("holiday-add"));
    await eventually(() => expect(screen.getAllByTestId("holiday")).toHaveLength(2));

    // The Desk is asked what the draft would move, and its answer is shown before saving.
    await eventually(() => expect(screen.getByTestId("calendar-effect").textContent).toBe("If saved, 3 of 12 open tickets' deadlines move."));
    const asked = lastArgs(mock, "calendar_effect") as { sla: SlaSettings };
    expect(asked.sla.calendar.tz).toBe("Europe/Lisbon");
    expect(asked.sla.calendar.holidays).toContainEqual({ date: "2026-06-13", name: "Santo António" });

    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    expect(lastArgs(mock, "change_settings").baseVersion).toBe(3);
    const doc = savedSla(mock);
    expect(doc.calendar.tz).toBe("Europe/Lisbon");
    expect(doc.calendar.weekly.monday).toEqual([
      { start_minute: 540, end_minute: 750 },
      { start_minute: 840, end_minute: 1440 },
    ]);
    expect(doc.calendar.weekly.tuesday).toEqual([{ start_minute: 540, end_minute: 1080 }]);
    expect(doc.calendar.weekly.saturday).toEqual([{ start_minute: 540, end_minute: 600 }]);
    expect(doc.calendar.holidays).toEqual([
      { date: "2026-12-25", name: "Christmas Day" },
      { date: "2026-06-13", name: "Santo António" },
    ]);
    expect(doc.policies).toHaveLength(2);
  });

  it("records who added a special period and when", async () => {
    const mock = await openCalendar();
    const before = Date.now();
    fireEvent.click(screen.getByTestId("period-add"));
    const period = await eventually(() => screen.getByTestId("period"));
    fireEvent.change(within(period).getByTestId("period-from"), { target: { value: "2026-12-24" } });
    fireEvent.change(within(period).getByTestId("period-to"), { target: { value: "2026-12-31" } });
    fireEvent.input(within(period).getByTestId("period-reason"), { target: { value: "Year-end closure" } });
    expect(within(period).getByTestId("period-recorded").textContent).toContain(adminMe().user.name);
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const [saved] = savedSla(mock).calendar.special_periods;
    expect(saved).toMatchObject({ from: "2026-12-24", to: "2026-12-31", hours: [], reason: "Year-end closure", recorded_by: adminMe().user.name });
    expect(Date.parse(saved!.recorded_at)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("records the admin who changes an existing special period", async () => {
    const view = sampleView();
    (view.settings.sla.settings.doc as SlaSettings).calendar.special_periods = [
      { from: "2026-10-01", to: "2026-10-07", hours: [], reason: "National Day", recorded_by: "Someone else", recorded_at: "2026-09-01T08:00:00Z" },
    ];
    const mock = adminBackend(view);
    await renderAdmin(mock, "calendar");
    const period = await eventually(() => screen.getByTestId("period"));
    expect(within(period).getByTestId("period-recorded").textContent).toContain("Someone else");
    fireEvent.click(within(period).getByTestId("interval-add"));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const [saved] = savedSla(mock).calendar.special_periods;
    expect(saved).toMatchObject({ reason: "National Day", hours: [{ start_minute: 540, end_minute: 600 }], recorded_by: adminMe().user.name });
    expect(saved!.recorded_at).not.toBe("2026-09-01T08:00:00Z");
  });

  it("shows the month as the Desk's calendar reads the unsaved draft", async () => {
    const mock = await openCalendar();
    const nine = [{ start_minute: 540, end_minute: 1080 }];
    // December 2026 as the Desk answers it: weekdays open, weekends closed, a holiday, and a
    // special period over the last two days.
    const december: MonthDay[] = Array.from({ length: 31 }, (_, i) => {
      const date = `2026-12-${String(i + 1).padStart(2, "0")}`;
      const weekend = [5, 6].includes((i + 1) % 7);
      if (date === "2026-12-25") return { date, hours: [], holiday: "Christmas Day", special_period: null };
      if (date >= "2026-12-30") return { date, hours: [{ start_minute: 540, end_minute: 720 }], holiday: null, special_period: "Year end" };
      return { date, hours: weekend ? [] : nine, holiday: null, special_period: null };
    });
    mock.on("calendar_month", (args) => (args.year === 2026 && args.month === 12 ? december : []));
    fireEvent.change(screen.getByTestId("calendar-tz"), { target: { value: "Europe/Lisbon" } });

    // Walk to December 2026 from whatever month today is.
    const asked = () => lastArgs(mock, "calendar_month") as { calendar: BusinessCalendar; year: number; month: number };
    for (let i = 0; i < 48 && asked().year * 12 + asked().month !== 2026 * 12 + 12; i++) {
      fireEvent.click(screen.getByTestId(asked().year * 12 + asked().month < 2026 * 12 + 12 ? "calendar-next" : "calendar-prev"));
    }
    // The draft went to the Desk, not the saved calendar.
    expect(asked().calendar.tz).toBe("Europe/Lisbon");
    const month = screen.getByTestId("calendar-month");
    const day = (date: string) => month.querySelector<HTMLElement>(`[data-date="${date}"]`);
    await eventually(() => expect(day("2026-12-25")?.dataset.state).toBe("holiday"));
    expect(day("2026-12-25")!.title).toBe("Holiday · Christmas Day");
    expect(day("2026-12-24")!.dataset.state).toBe("open");
    expect(day("2026-12-24")!.title).toBe("Open · 09:00–18:00");
    expect(day("2026-12-26")!.dataset.state).toBe("closed");
    expect(day("2026-12-31")!.dataset.state).toBe("special_open");
    expect(day("2026-12-31")!.title).toBe("Special hours · Year end · 09:00–12:00");
    // 1 December 2026 is a Tuesday: one padding cell before it.
    expect(month.querySelectorAll(".admin-day-pad").length).toBe(1 + 3);

    // A holiday added in the draft is asked about at once.
    const calls = mock.callsTo("calendar_month").length;
    fireEvent.input(screen.getByTestId("holiday-new-date"), { target: { value: "2026-12-24" } });
    fireEvent.input(screen.getByTestId("holiday-new-name"), { target: { value: "Consoada" } });
    fireEvent.click(screen.getByTestId("holiday-add"));
    await eventually(() => expect(mock.callsTo("calendar_month").length).toBeGreaterThan(calls));
    expect(asked().calendar.holidays).toContainEqual({ date: "2026-12-24", name: "Consoada" });
    expect(asked()).toMatchObject({ year: 2026, month: 12 });
  });

  it("says when the month cannot be shown", async () => {
    const mock = await openCalendar();
    mock.on("calendar_month", new (await import("../../backend")).BackendError("invalid", "there is no month 13 in year 2026"));
    fireEvent.click(screen.getByTestId("calendar-next"));
    await eventually(() => expect(screen.getByTestId("calendar-month-error").textContent).toContain("there is no month 13"));
    expect(screen.getByTestId("calendar-month-grid").dataset.state).toBe("failed");
  });

  it("shares one draft with the SLA policies tab, so both edits go in one save", async () => {
    const mock = await openCalendar();
    fireEvent.change(screen.getByTestId("calendar-tz"), { target: { value: "Europe/Lisbon" } });
    fireEvent.click(screen.getByTestId("admin-tab-sla"));
    const p1 = await eventually(() => screen.getAllByTestId("sla-policy")[0]!);
    fireEvent.change(within(p1).getByTestId("sla-resolution-h"), { target: { value: "4" } });
    const sla = screen.getByTestId("admin-panel-sla");
    fireEvent.click(within(sla).getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const doc = savedSla(mock);
    expect(doc.calendar.tz).toBe("Europe/Lisbon");
    expect(doc.policies[0]!.resolution_minutes).toBe(240);
    const calendar = screen.getByTestId("admin-panel-calendar");
    expect((within(calendar).getByTestId("admin-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows the Desk's refusal of an impossible calendar", async () => {
    const mock = await openCalendar();
    mock.failNext(
      "change_settings",
      "invalid",
      "sla: business calendar: monday: opening intervals 09:00–18:00 and 12:00–13:00 overlap; merge them into one",
    );
    fireEvent.click(within(screen.getByTestId("hours-monday")).getByTestId("interval-add"));
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(screen.getByTestId("admin-save-status").textContent).toContain("overlap; merge them into one"));
  });

  it("says when the effect cannot be computed", async () => {
    const mock = await openCalendar();
    mock.on("calendar_effect", new (await import("../../backend")).BackendError("invalid", "sla: business calendar: overlapping"));
    fireEvent.click(within(screen.getByTestId("hours-friday")).getByTestId("interval-remove"));
    await eventually(() => expect(screen.getByTestId("calendar-effect").dataset.state).toBe("failed"));
    expect(screen.getByTestId("calendar-effect").textContent).toContain("overlapping");
  });
});
