import { describe, expect, it } from "vitest";
import { fireEvent, screen } from "@solidjs/testing-library";
import { en } from "../../i18n/en";
import { eventually } from "../../test/helpers";
import { adminBackend, answerView, lastArgs, renderAdmin, sampleView } from "./testing";
import { FILE_TYPES } from "../../backend/rules.gen";

async function openOrganisation(view = sampleView()) {
  const mock = adminBackend(view);
  await renderAdmin(mock, "organisation");
  const name = await eventually(() => screen.getByTestId("org-name") as HTMLInputElement);
  return { mock, name };
}

describe("organisation and customer form", () => {
  it("shows the stored profile and saves an edit on the version it was made on", async () => {
    const { mock, name } = await openOrganisation();
    expect(name.value).toBe("Lisboa Pay");
    expect((screen.getByTestId("org-default-department") as HTMLSelectElement).value).toBe("support");
    expect((screen.getByTestId("admin-save") as HTMLButtonElement).disabled).toBe(true);

    fireEvent.input(name, { target: { value: "Lisboa Pay S.A." } });
    fireEvent.click(screen.getByTestId("org-two-factor"));
    fireEvent.change(screen.getByTestId("org-default-department"), { target: { value: "risk" } });
    fireEvent.input(screen.getByTestId("org-form-title"), { target: { value: "Contact us" } });
    fireEvent.input(screen.getByTestId("org-accent"), { target: { value: "#0f766e" } });
    fireEvent.change(screen.getByTestId("org-language"), { target: { value: "zh-CN" } });
    fireEvent.input(screen.getByTestId("org-promise"), { target: { value: "4" } });
    fireEvent.click(screen.getByTestId("admin-save"));

    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    expect(lastArgs(mock, "change_settings")).toEqual({
      baseVersion: 2,
      settings: {
        kind: "organisation",
        doc: {
          name: "Lisboa Pay S.A.",
          default_department: "risk",
          require_two_factor: true,
          form: { title: "Contact us", logo_png_base64: null, accent_colour: "#0f766e", default_language: "zh-CN", response_promise_hours: 4 },
          attachments: { types: ["pdf", "jpeg", "png"], max_bytes: 5242880, max_per_message: 10 },
        },
      },
    });
    await eventually(() => expect(screen.getByTestId("admin-save-status").dataset.state).toBe("saved"));
  });

  it("offers retired departments disabled", async () => {
    await openOrganisation();
    const legacy = [...(screen.getByTestId("org-default-department") as HTMLSelectElement).options].find((o) => o.value === "legacy")!;
    expect(legacy.disabled).toBe(true);
    expect(legacy.textContent).toContain("(retired)");
  });

  it("uploads a PNG logo as base64 and shows its size", async () => {
    const { mock } = await openOrganisation();
    expect(screen.getByTestId("org-logo-none")).toBeTruthy();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const file = new File([png], "logo.png", { type: "image/png" });
    const input = screen.getByTestId("org-logo-input") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [file], configurable: true });
    fireEvent.change(input);
    await eventually(() => expect(screen.getByTestId("org-logo-size").textContent).toBe("12 B"));
    expect((screen.getByTestId("org-logo-preview") as HTMLImageElement).getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgoAAAAA");
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
    const doc = (lastArgs(mock, "change_settings").settings as { doc: { form: { logo_png_base64: string } } }).doc;
    expect(doc.form.logo_png_base64).toBe("iVBORw0KGgoAAAAA");
  });

  it("refuses a file that is not a PNG without changing the draft", async () => {
    await openOrganisation();
    const input = screen.getByTestId("org-logo-input") as HTMLInputElement;
    Object.defineProperty(input, "files", { value: [new File(["GIF89a"], "logo.gif", { type: "image/gif" })], configurable: true });
    fireEvent.change(input);
    await eventually(() => expect(screen.getByTestId("org-logo-note").textContent).toBe(en["admin.org.logo_not_png"]));
    expect((screen.getByTestId("admin-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows the Desk's refusal and keeps the edit", async () => {
    const { mock, name } = await openOrganisation();
    mock.failNext("change_settings", "invalid", "form.accent_colour: must be a colour written #rrggbb, such as #2563eb");
    fireEvent.input(screen.getByTestId("org-accent"), { target: { value: "teal" } });
    fireEvent.click(screen.getByTestId("admin-save"));
    const status = await eventually(() => {
      const s = screen.getByTestId("admin-save-status");
      expect(s.dataset.state).toBe("refused");
      return s;
    });
    expect(status.textContent).toContain("must be a colour written #rrggbb");
    expect((screen.getByTestId("org-accent") as HTMLInputElement).value).toBe("teal");
    expect(name.value).toBe("Lisboa Pay");
  });

  it("says when someone else changed the settings, and reloads their version", async () => {
    const view = sampleView();
    const mock = adminBackend(view);
    await renderAdmin(mock, "organisation");
    const name = await eventually(() => screen.getByTestId("org-name") as HTMLInputElement);
    mock.failNext("change_settings", "conflict", "the organisation settings were changed (version 3) after this edit was made on version 2");
    fireEvent.input(name, { target: { value: "Mine" } });
    fireEvent.click(screen.getByTestId("admin-save"));
    const status = await eventually(() => {
      const s = screen.getByTestId("admin-save-status");
      expect(s.dataset.code).toBe("conflict");
      return s;
    });
    expect(status.textContent).toContain(en["admin.conflict"]);
    // Someone else's version, as the Desk now has it.
    const theirs = sampleView();
    theirs.settings.organisation.version = 3;
    (theirs.settings.organisation.settings.doc as { name: string }).name = "Theirs";
    mock.on("org_settings", theirs);
    fireEvent.click(screen.getByTestId("admin-reload"));
    await eventually(() => expect((screen.getByTestId("org-name") as HTMLInputElement).value).toBe("Theirs"));
    fireEvent.input(screen.getByTestId("org-name"), { target: { value: "Theirs, renamed" } });
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(2));
    expect(lastArgs(mock, "change_settings").baseVersion).toBe(3);
  });

  it("marks a document whose edit is still queued", async () => {
    const view = sampleView();
    view.pending = ["organisation"];
    await openOrganisation(view);
    expect(screen.getByTestId("admin-pending").textContent).toBe(en["admin.pending"]);
  });

  it("says a save made offline is kept on this computer until it reaches the server", async () => {
    const { mock, name } = await openOrganisation();
    expect(screen.queryByTestId("admin-pending")).toBeNull();
    // Offline, the Desk applies the edit to the cache and queues it: the next read lists it as pending.
    const queued = sampleView();
    queued.settings.organisation.version = 3;
    (queued.settings.organisation.settings.doc as { name: string }).name = "Offline name";
    queued.pending = ["organisation"];
    answerView(mock, queued);
    fireEvent.input(name, { target: { value: "Offline name" } });
    fireEvent.click(screen.getByTestId("admin-save"));
    await eventually(() => expect(screen.getByTestId("admin-save-status").dataset.state).toBe("pending"));
    expect(screen.getByTestId("admin-save-status").textContent).toBe(en["admin.saved_pending"]);
    expect(screen.getByTestId("admin-pending")).toBeTruthy();
    expect((screen.getByTestId("org-name") as HTMLInputElement).value).toBe("Offline name");
  });

  describe("attachments customers may send", () => {
    const typeBox = (kind: string) => screen.getByTestId(`org-attachment-type-${kind}`) as HTMLInputElement;
    const savedPolicy = (mock: ReturnType<typeof adminBackend>) =>
      (lastArgs(mock, "change_settings").settings as { doc: { attachments: unknown } }).doc.attachments;

    it("shows the stored policy: one box per kind of file, the size in MB and the files per message", async () => {
      const view = sampleView();
      const doc = view.settings.organisation.settings.doc as { attachments: { types: string[]; max_bytes: number; max_per_message: number } };
      doc.attachments = { types: ["pdf", "zip"], max_bytes: 2621440, max_per_message: 3 };
      await openOrganisation(view);
      const section = screen.getByTestId("org-attachments");
      expect(section.textContent).toContain(en["admin.org.attachments"]);
      // Every kind the core knows, in its order, labelled.
      const boxes = [...section.querySelectorAll<HTMLInputElement>("input[type=checkbox]")];
      expect(boxes.map((b) => b.dataset.testid)).toEqual(FILE_TYPES.map((k) => `org-attachment-type-${k}`));
      expect(boxes.filter((b) => b.checked).map((b) => b.dataset.testid)).toEqual(["org-attachment-type-pdf", "org-attachment-type-zip"]);
      expect(typeBox("zip").parentElement!.textContent).toBe(en["admin.org.attachments_type.zip"]);
      expect((screen.getByTestId("org-attachment-max-mb") as HTMLInputElement).value).toBe("2.5");
      expect((screen.getByTestId("org-attachment-max-files") as HTMLInputElement).value).toBe("3");
      expect((screen.getByTestId("admin-save") as HTMLButtonElement).disabled).toBe(true);
    });

    it("sends the edited policy with the rest of the organisation document", async () => {
      const { mock } = await openOrganisation();
      expect(typeBox("pdf").checked).toBe(true);
      expect((screen.getByTestId("org-attachment-max-mb") as HTMLInputElement).value).toBe("5");
      fireEvent.click(typeBox("jpeg"));
      fireEvent.click(typeBox("text"));
      fireEvent.input(screen.getByTestId("org-attachment-max-mb"), { target: { value: "1.5" } });
      fireEvent.input(screen.getByTestId("org-attachment-max-files"), { target: { value: "4" } });
      fireEvent.click(screen.getByTestId("admin-save"));
      await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
      expect(lastArgs(mock, "change_settings")).toEqual({
        baseVersion: 2,
        settings: {
          kind: "organisation",
          doc: {
            name: "Lisboa Pay",
            default_department: "support",
            require_two_factor: false,
            form: { title: "", logo_png_base64: null, accent_colour: "#2563eb", default_language: "en", response_promise_hours: null },
            attachments: { types: ["pdf", "png", "text"], max_bytes: 1572864, max_per_message: 4 },
          },
        },
      });
      await eventually(() => expect(screen.getByTestId("admin-save-status").dataset.state).toBe("saved"));
    });

    it("sends whole megabytes as bytes and an emptied size as 0 for the Desk to judge", async () => {
      const { mock } = await openOrganisation();
      fireEvent.input(screen.getByTestId("org-attachment-max-mb"), { target: { value: "25" } });
      fireEvent.click(screen.getByTestId("admin-save"));
      await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(1));
      expect(savedPolicy(mock)).toEqual({ types: ["pdf", "jpeg", "png"], max_bytes: 26214400, max_per_message: 10 });
      await eventually(() => expect(screen.getByTestId("admin-save-status").dataset.state).toBe("saved"));
      fireEvent.input(screen.getByTestId("org-attachment-max-mb"), { target: { value: "" } });
      fireEvent.click(screen.getByTestId("admin-save"));
      await eventually(() => expect(mock.callsTo("change_settings")).toHaveLength(2));
      expect(savedPolicy(mock)).toEqual({ types: ["pdf", "jpeg", "png"], max_bytes: 0, max_per_message: 10 });
    });

    it("shows the Desk's refusal of a policy with no kind of file and keeps the edit", async () => {
      const { mock } = await openOrganisation();
      mock.failNext("change_settings", "invalid", "attachments: allow at least one kind of file");
      for (const kind of ["pdf", "jpeg", "png"]) fireEvent.click(typeBox(kind));
      fireEvent.click(screen.getByTestId("admin-save"));
      const status = await eventually(() => {
        const s = screen.getByTestId("admin-save-status");
        expect(s.dataset.state).toBe("refused");
        return s;
      });
      expect(status.textContent).toContain("allow at least one kind of file");
      expect(savedPolicy(mock)).toEqual({ types: [], max_bytes: 5242880, max_per_message: 10 });
      expect(FILE_TYPES.some((k) => typeBox(k).checked)).toBe(false);
      expect((screen.getByTestId("admin-save") as HTMLButtonElement).disabled).toBe(false);
    });
  });
});
