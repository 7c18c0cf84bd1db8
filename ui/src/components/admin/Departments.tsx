// Departments: add one (a short code and a display name), rename, retire and restore. A retired
// department is no longer offered; its tickets stay where they are.
import { createSignal, For } from "solid-js";
import { t } from "../../i18n";
import { createSaver, putDepartment, SaveStatus, useAdmin } from "./state";
import type { Department } from "./model";

function DepartmentRow(props: { department: Department; onSave: (d: Department) => void }) {
  const [name, setName] = createSignal(props.department.name);
  const changed = () => name() !== props.department.name;
  return (
    <tr data-testid="department-row" data-code={props.department.code} classList={{ "admin-retired": !props.department.active }}>
      <td>
        <code>{props.department.code}</code>
      </td>
      <td>
        <input type="text" data-testid="department-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
      </td>
      <td data-testid="department-state">{props.department.active ? t("admin.active") : t("admin.retired")}</td>
      <td class="admin-row-actions">
        <button type="button" class="link" data-testid="department-rename" disabled={!changed()} onClick={() => props.onSave({ ...props.department, name: name() })}>
          {t("admin.departments.rename")}
        </button>
        <button
          type="button"
          class="link"
          data-testid="department-toggle"
          onClick={() => props.onSave({ ...props.department, active: !props.department.active })}
        >
          {props.department.active ? t("admin.retire") : t("admin.restore")}
        </button>
      </td>
    </tr>
  );
}

export function DepartmentsSettings() {
  const admin = useAdmin();
  const saver = createSaver();
  const [code, setCode] = createSignal("");
  const [name, setName] = createSignal("");
  const departments = () => [...(admin.view()?.departments ?? [])].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name));

  const save = (d: Department) => saver.run(() => putDepartment(admin, d));
  const add = async () => {
    if (await save({ code: code().trim(), name: name().trim(), active: true })) {
      setCode("");
      setName("");
    }
  };

  return (
    <section class="admin-section" data-testid="admin-departments">
      <header class="admin-section-head">
        <h3>{t("admin.tab.departments")}</h3>
      </header>
      <table class="admin-table" data-testid="departments-list">
        <thead>
          <tr>
            <th>{t("admin.departments.code")}</th>
            <th>{t("admin.departments.name")}</th>
            <th>{t("admin.status")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          <For each={departments()}>{(d) => <DepartmentRow department={d} onSave={(next) => void save(next)} />}</For>
        </tbody>
      </table>
      <h4>{t("admin.departments.add")}</h4>
      <div class="admin-inline admin-wrap">
        <label>
          <span>{t("admin.departments.code")}</span>
          <input type="text" class="admin-short" data-testid="department-new-code" placeholder="billing" value={code()} onInput={(e) => setCode(e.currentTarget.value)} />
        </label>
        <label>
          <span>{t("admin.departments.name")}</span>
          <input type="text" data-testid="department-new-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="button" class="primary" data-testid="department-add" disabled={!code().trim() || !name().trim()} onClick={() => void add()}>
          {t("admin.departments.add_button")}
        </button>
      </div>
      <p class="muted">{t("admin.departments.code_hint")}</p>
      <SaveStatus state={saver.state()} testid="departments-status-line" />
    </section>
  );
}
