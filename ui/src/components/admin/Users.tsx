// The people of the organisation: who works where, in which role, with which skills, who is
// away; inviting someone (a one-time link or password, shown once), correcting them, disabling
// and enabling, resetting a password or the second factor. Every change is a call to the
// server (online only); the list itself is the directory the cache holds, so it reads offline.
// Whether each person has set up a second factor only the server knows: that column fills in
// when it answers, and says so when a required one is missing.
import { createEffect, createMemo, createSignal, For, onMount, Show, untrack } from "solid-js";
import { BackendError, type Department, type Role, type User, type WeeklyHours } from "../../backend";
import { departmentName, useDesk } from "../../state/app";
import { errorText } from "../../lib/errors";
import { t } from "../../i18n";
import { ConfirmDialog, Dialog } from "../Dialog";
import { WEEKDAYS } from "../../lib/adminFormat";
import { weeklyText } from "../../lib/hours";
import { Intervals } from "./BusinessHours";

export const ROLES: Role[] = ["agent", "supervisor", "admin"];
type InviteKind = "link" | "password";

/** A refusal in words: offline gets its own calm line, everything else the Desk's reason. */
export function adminErrorText(error: unknown): string {
  const e = BackendError.from(error);
  if (e.code === "offline") return t("adminUsers.offline");
  if (e.code === "conflict") return t("adminUsers.conflict", { message: e.message });
  return errorText(e);
}

/** Comma- or newline-separated skills, trimmed, without empties or repeats. */
export function parseSkills(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,，\n]/)) {
    const skill = part.trim();
    if (skill && !out.includes(skill)) out.push(skill);
  }
  return out;
}

/** A value to hand on (a link, a key), with a copy button. */
export function CopyText(props: { label: string; value: string; testid: string; note?: string }) {
  const [copied, setCopied] = createSignal<boolean | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="copy-text" data-testid={props.testid}>
      <span class="label">{props.label}</span>
      <code class="mono copy-value" data-testid={`${props.testid}-value`}>
        {props.value}
      </code>
      <button type="button" data-testid={`${props.testid}-copy`} onClick={() => void copy()}>
        {t("adminUsers.copy")}
      </button>
      <Show when={copied() !== null}>
        <span class="muted" role="status" data-testid={`${props.testid}-copied`}>
          {copied() ? t("adminUsers.copied") : t("adminUsers.copy_failed")}
        </span>
      </Show>
      <Show when={props.note}>
        <p class="muted">{props.note}</p>
      </Show>
    </div>
  );
}

/** A secret the server made: shown once, never stored by the app. */
export function SecretOnce(props: { label: string; value: string; testid: string }) {
  return <CopyText label={props.label} value={props.value} testid={props.testid} note={t("adminUsers.shown_once")} />;
}

/** Department checkboxes: active departments, plus retired ones the person still works in. */
function DepartmentChoice(props: { departments: Department[]; value: string[]; onChange: (codes: string[]) => void; testid: string }) {
  const offered = () => props.departments.filter((d) => d.active || props.value.includes(d.code));
  const toggle = (code: string, on: boolean) => props.onChange(on ? [...props.value, code] : props.value.filter((c) => c !== code));
  return (
    <fieldset class="choice-list" data-testid={props.testid}>
      <legend>{t("adminUsers.departments")}</legend>
      <For each={offered()}>
        {(d) => (
          <label class="admin-check">
            <input type="checkbox" data-testid={`${props.testid}-${d.code}`} checked={props.value.includes(d.code)} onChange={(e) => toggle(d.code, e.currentTarget.checked)} />
            <span>{d.active ? d.name : t("adminUsers.retired_department", { name: d.name })}</span>
          </label>
        )}
      </For>
    </fieldset>
  );
}

function RoleSelect(props: { value: Role; onChange: (role: Role) => void; testid: string }) {
  return (
    <label class="field">
      <span>{t("adminUsers.role")}</span>
      <select data-testid={props.testid} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as Role)}>
        <For each={ROLES}>{(r) => <option value={r}>{t(`role.${r}`)}</option>}</For>
      </select>
    </label>
  );
}

function InviteChoice(props: { value: InviteKind; onChange: (kind: InviteKind) => void; name: string }) {
  return (
    <fieldset class="choice-list" data-testid={`${props.name}-kind`}>
      <legend>{t("adminUsers.invite_how")}</legend>
      <label class="admin-check">
        <input type="radio" name={props.name} data-testid={`${props.name}-link`} checked={props.value === "link"} onChange={() => props.onChange("link")} />
        <span>{t("adminUsers.invite_link")}</span>
      </label>
      <label class="admin-check">
        <input type="radio" name={props.name} data-testid={`${props.name}-password`} checked={props.value === "password"} onChange={() => props.onChange("password")} />
        <span>{t("adminUsers.invite_password")}</span>
      </label>
    </fieldset>
  );
}

type Secret = { one_time_password: string | null; invite_link: string | null };

function Secrets(props: { secret: Secret; testid: string }) {
  return (
    <>
      <Show when={props.secret.invite_link}>{(link) => <SecretOnce label={t("adminUsers.link_label")} value={link()} testid={props.testid} />}</Show>
      <Show when={props.secret.one_time_password}>{(pw) => <SecretOnce label={t("adminUsers.password_label")} value={pw()} testid={props.testid} />}</Show>
    </>
  );
}

/** A first schedule to edit from when someone had none: weekdays 09:00–17:00. */
function officeWeek(): WeeklyHours {
  const day = () => [{ start_minute: 9 * 60, end_minute: 17 * 60 }];
  return { monday: day(), tuesday: day(), wednesday: day(), thursday: day(), friday: day(), saturday: [], sunday: [] };
}

/**
 * The weekly shifts someone works: none (always available) or hours per day, several intervals
 * a day. The intervals are checked by the server (the calendar's rules); its refusal is shown.
 */
function ShiftsChoice(props: { value: WeeklyHours | null; onChange: (next: WeeklyHours | null) => void }) {
  return (
    <fieldset class="choice-list" data-testid="edit-shifts">
      <legend>{t("adminUsers.shifts")}</legend>
      <label class="admin-check">
        <input type="radio" name="edit-shifts" data-testid="edit-shifts-none" checked={props.value === null} onChange={() => props.onChange(null)} />
        <span>{t("adminUsers.shifts_none")}</span>
      </label>
      <label class="admin-check">
        <input type="radio" name="edit-shifts" data-testid="edit-shifts-set" checked={props.value !== null} onChange={() => props.value === null && props.onChange(officeWeek())} />
        <span>{t("adminUsers.shifts_set")}</span>
      </label>
      <Show when={props.value}>
        {(week) => (
          <>
            <table class="admin-table" data-testid="edit-shifts-week">
              <tbody>
                <For each={WEEKDAYS}>
                  {(day) => (
                    <tr data-testid={`shift-${day}`}>
                      <th>{t(`admin.calendar.day.${day}`)}</th>
                      <td>
                        <Intervals
                          testid={`shift-hours-${day}`}
                          closedText={t("adminUsers.shifts_off")}
                          intervals={week()[day]}
                          onChange={(next) => props.onChange({ ...week(), [day]: next })}
                        />
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
            <p class="muted">{t("adminUsers.shifts_hint")}</p>
          </>
        )}
      </Show>
    </fieldset>
  );
}

/** Invites someone: their details, then the link or password the server made, shown once. */
function InviteDialog(props: { departments: Department[]; onClose: () => void; onAdded: (user: User) => void }) {
  const desk = useDesk();
  const [name, setName] = createSignal("");
  const [email, setEmail] = createSignal("");
  const [role, setRole] = createSignal<Role>("agent");
  const [departments, setDepartments] = createSignal<string[]>([]);
  const [skills, setSkills] = createSignal("");
  const [kind, setKind] = createSignal<InviteKind>("link");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [secret, setSecret] = createSignal<(Secret & { user: User }) | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name().trim() || !email().trim()) return setError(t("adminUsers.missing"));
    setBusy(true);
    setError(null);
    try {
      const added = await desk.backend.adminAddUser({
        email: email().trim(),
        name: name().trim(),
        role: role(),
        departments: departments(),
        skills: parseSkills(skills()),
        invite: kind(),
      });
      setSecret(added);
      props.onAdded(added.user);
    } catch (err) {
      setError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("adminUsers.invite_title")} onClose={props.onClose} testid="invite-dialog" wide>
      <Show
        when={secret()}
        fallback={
          <form class="new-ticket" onSubmit={(e) => void submit(e)}>
            <div class="grid-3">
              <label class="field">
                <span>{t("adminUsers.name")}</span>
                <input data-testid="invite-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
              </label>
              <label class="field">
                <span>{t("adminUsers.email")}</span>
                <input type="email" data-testid="invite-email" value={email()} onInput={(e) => setEmail(e.currentTarget.value)} />
              </label>
              <RoleSelect value={role()} onChange={setRole} testid="invite-role" />
            </div>
            <DepartmentChoice departments={props.departments} value={departments()} onChange={setDepartments} testid="invite-departments" />
            <label class="field">
              <span>{t("adminUsers.skills")}</span>
              <input data-testid="invite-skills" placeholder={t("adminUsers.skills_hint")} value={skills()} onInput={(e) => setSkills(e.currentTarget.value)} />
            </label>
            <InviteChoice value={kind()} onChange={setKind} name="invite" />
            <Show when={error()}>
              <p class="error" role="alert" data-testid="invite-error">
                {error()}
              </p>
            </Show>
            <footer class="dialog-actions">
              <button type="button" onClick={() => props.onClose()}>
                {t("common.cancel")}
              </button>
              <button type="submit" class="primary" data-testid="invite-submit" disabled={busy()}>
                {t("adminUsers.invite_submit")}
              </button>
            </footer>
          </form>
        }
      >
        {(s) => (
          <div class="new-ticket">
            <p data-testid="invite-done">{t("adminUsers.invited", { name: s().user.name })}</p>
            <Secrets secret={s()} testid="invite-secret" />
            <footer class="dialog-actions">
              <button type="button" class="primary" data-testid="invite-close" onClick={() => props.onClose()}>
                {t("adminUsers.done")}
              </button>
            </footer>
          </div>
        )}
      </Show>
    </Dialog>
  );
}

/** Corrects someone's name, role, departments, skills, away flag and shifts; sends only what changed. */
function EditDialog(props: { user: User; departments: Department[]; onClose: () => void; onSaved: (user: User) => void }) {
  const desk = useDesk();
  const u = props.user;
  const [name, setName] = createSignal(u.name);
  const [role, setRole] = createSignal<Role>(u.role);
  const [departments, setDepartments] = createSignal<string[]>([...u.departments]);
  const [skills, setSkills] = createSignal(u.skills.join(", "));
  const [away, setAway] = createSignal(u.away);
  const [shifts, setShifts] = createSignal<WeeklyHours | null>(u.shifts ? structuredClone(u.shifts) : null);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);

  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name().trim()) return setError(t("adminUsers.missing_name"));
    const patch: { name?: string; role?: Role; departments?: string[]; skills?: string[]; away?: boolean; shifts?: WeeklyHours | null } = {};
    if (name().trim() !== u.name) patch.name = name().trim();
    if (role() !== u.role) patch.role = role();
    if (!same([...departments()].sort(), [...u.departments].sort())) patch.departments = departments();
    const nextSkills = parseSkills(skills());
    if (!same(nextSkills, u.skills)) patch.skills = nextSkills;
    if (away() !== u.away) patch.away = away();
    if (JSON.stringify(shifts()) !== JSON.stringify(u.shifts ?? null)) patch.shifts = shifts();
    if (Object.keys(patch).length === 0) return props.onClose();
    setBusy(true);
    setError(null);
    try {
      props.onSaved(await desk.backend.adminUpdateUser(u.id, patch));
      props.onClose();
    } catch (err) {
      setError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={t("adminUsers.edit_title", { name: u.name })} onClose={props.onClose} testid="user-edit-dialog" wide>
      <form class="new-ticket" onSubmit={(e) => void submit(e)}>
        <div class="grid-3">
          <label class="field">
            <span>{t("adminUsers.name")}</span>
            <input data-testid="edit-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <RoleSelect value={role()} onChange={setRole} testid="edit-role" />
          <label class="admin-check">
            <input type="checkbox" data-testid="edit-away" checked={away()} onChange={(e) => setAway(e.currentTarget.checked)} />
            <span>{t("adminUsers.away_label")}</span>
          </label>
        </div>
        <DepartmentChoice departments={props.departments} value={departments()} onChange={setDepartments} testid="edit-departments" />
        <label class="field">
          <span>{t("adminUsers.skills")}</span>
          <input data-testid="edit-skills" placeholder={t("adminUsers.skills_hint")} value={skills()} onInput={(e) => setSkills(e.currentTarget.value)} />
        </label>
        <ShiftsChoice value={shifts()} onChange={setShifts} />
        <Show when={error()}>
          <p class="error" role="alert" data-testid="edit-error">
            {error()}
          </p>
        </Show>
        <footer class="dialog-actions">
          <button type="button" onClick={() => props.onClose()}>
            {t("common.cancel")}
          </button>
          <button type="submit" class="primary" data-testid="edit-save" disabled={busy()}>
            {t("ticket.save")}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}

/** A new password or invitation link for someone; their sessions end. */
function ResetPasswordDialog(props: { user: User; onClose: () => void }) {
  const desk = useDesk();
  const [kind, setKind] = createSignal<InviteKind>("link");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [secret, setSecret] = createSignal<Secret | null>(null);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      setSecret(await desk.backend.adminResetPassword(props.user.id, kind()));
    } catch (err) {
      setError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={t("adminUsers.reset_password_title", { name: props.user.name })} onClose={props.onClose} testid="reset-password-dialog">
      <Show
        when={secret()}
        fallback={
          <>
            <p class="dialog-message">{t("adminUsers.reset_password_message")}</p>
            <InviteChoice value={kind()} onChange={setKind} name="reset" />
            <Show when={error()}>
              <p class="error" role="alert" data-testid="reset-password-error">
                {error()}
              </p>
            </Show>
            <footer class="dialog-actions">
              <button type="button" onClick={() => props.onClose()}>
                {t("common.cancel")}
              </button>
              <button type="button" class="primary danger" data-testid="reset-password-confirm" disabled={busy()} onClick={() => void submit()}>
                {t("adminUsers.reset_password")}
              </button>
            </footer>
          </>
        }
      >
        {(s) => (
          <>
            <Secrets secret={s()} testid="reset-secret" />
            <footer class="dialog-actions">
              <button type="button" class="primary" data-testid="reset-password-close" onClick={() => props.onClose()}>
                {t("adminUsers.done")}
              </button>
            </footer>
          </>
        )}
      </Show>
    </Dialog>
  );
}

type Confirm = { kind: "disable" | "enable" | "totp"; user: User };

export function UsersScreen() {
  const desk = useDesk();
  const [inviting, setInviting] = createSignal(false);
  const [editing, setEditing] = createSignal<User | null>(null);
  const [resetting, setResetting] = createSignal<User | null>(null);
  const [confirm, setConfirm] = createSignal<Confirm | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [confirmError, setConfirmError] = createSignal<string | null>(null);
  const [notice, setNotice] = createSignal<string | null>(null);

  // The server's answers, shown at once over the cache's copy until a pull brings the same
  // person to the cache (the directory reloads when a pull touched users).
  const [answered, setAnswered] = createSignal<ReadonlyMap<string, User>>(new Map());
  const sameUser = (a: User, b: User) =>
    a.name === b.name &&
    a.email === b.email &&
    a.role === b.role &&
    a.active === b.active &&
    a.away === b.away &&
    JSON.stringify(a.shifts ?? null) === JSON.stringify(b.shifts ?? null) &&
    a.departments.join("\n") === b.departments.join("\n") &&
    a.skills.join("\n") === b.skills.join("\n");
  createEffect(() => {
    const cached = desk.directory().users;
    const pending = untrack(answered);
    const left = [...pending.values()].filter((a) => !cached.some((u) => u.id === a.id && sameUser(a, u)));
    if (left.length !== pending.size) setAnswered(new Map(left.map((u) => [u.id, u])));
  });
  const users = createMemo(() => {
    const cached = desk.directory().users;
    const mine = answered();
    const shown = cached.map((u) => mine.get(u.id) ?? u);
    for (const a of mine.values()) if (!cached.some((u) => u.id === a.id)) shown.push(a);
    return shown;
  });
  const departments = () => desk.directory().departments;
  const put = (user: User) => setAnswered((m) => new Map([...m, [user.id, user]]));

  // Second factors are the server's to tell (online only); `null` until it has answered.
  const [factors, setFactors] = createSignal<ReadonlyMap<string, boolean> | null>(null);
  const [factorsError, setFactorsError] = createSignal<string | null>(null);
  const [required, setRequired] = createSignal(false);
  const setFactor = (id: string, enabled: boolean) => setFactors((m) => (m ? new Map([...m, [id, enabled]]) : m));
  onMount(() => {
    void desk.backend
      .orgSettings()
      .then((view) => {
        const org = view.settings.organisation.settings;
        setRequired(org.kind === "organisation" && org.doc.require_two_factor);
      })
      .catch(() => setRequired(false));
    void desk.backend
      .adminUsers()
      .then((people) => setFactors(new Map(people.map((p) => [p.id, p.totp_enabled]))))
      .catch((err) => setFactorsError(adminErrorText(err)));
  });
  const factorState = (u: User): "on" | "off" | "missing" | "unknown" => {
    const enabled = factors()?.get(u.id);
    if (enabled === undefined) return "unknown";
    if (enabled) return "on";
    return required() ? "missing" : "off";
  };

  const runConfirm = async () => {
    const c = confirm();
    if (!c) return;
    setBusy(true);
    setConfirmError(null);
    try {
      if (c.kind === "disable") {
        await desk.backend.adminDisableUser(c.user.id);
        put({ ...c.user, active: false });
      } else if (c.kind === "enable") {
        await desk.backend.adminEnableUser(c.user.id);
        put({ ...c.user, active: true });
      } else {
        put(await desk.backend.adminResetTotp(c.user.id));
        setFactor(c.user.id, false);
        setNotice(t("adminUsers.totp_reset_done", { name: c.user.name }));
      }
      setConfirm(null);
    } catch (err) {
      setConfirmError(adminErrorText(err));
    } finally {
      setBusy(false);
    }
  };

  const confirmText = (c: Confirm) => {
    switch (c.kind) {
      case "disable":
        return { title: t("adminUsers.disable_title", { name: c.user.name }), message: t("adminUsers.disable_message"), label: t("adminUsers.disable") };
      case "enable":
        return { title: t("adminUsers.enable_title", { name: c.user.name }), message: t("adminUsers.enable_message"), label: t("adminUsers.enable") };
      case "totp":
        return { title: t("adminUsers.reset_totp_title", { name: c.user.name }), message: t("adminUsers.reset_totp_message"), label: t("adminUsers.reset_totp") };
    }
  };

  return (
    <section class="admin-section" data-testid="admin-users">
      <header class="admin-section-head">
        <h3>{t("adminUsers.title")}</h3>
        <button type="button" class="primary" data-testid="invite-open" onClick={() => setInviting(true)}>
          {t("adminUsers.invite")}
        </button>
      </header>
      <p class="muted">{t("adminUsers.online_only")}</p>
      <Show when={notice()}>
        <p class="admin-ok" role="status" data-testid="users-notice">
          {notice()}
        </p>
      </Show>
      <div class="table-scroll">
        <table class="admin-table" data-testid="users-table">
          <thead>
            <tr>
              <th>{t("adminUsers.name")}</th>
              <th>{t("adminUsers.role")}</th>
              <th>{t("adminUsers.departments")}</th>
              <th>{t("adminUsers.skills")}</th>
              <th>{t("adminUsers.state")}</th>
              <th>{t("adminUsers.second_factor")}</th>
              <th>
                <span class="visually-hidden">{t("adminUsers.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            <For each={users()}>
              {(u) => (
                <tr data-testid="user-row" data-user-id={u.id} data-active={String(u.active)} classList={{ muted: !u.active }}>
                  <td>
                    <strong data-testid="user-name">{u.name}</strong>
                    <div class="muted">{u.email}</div>
                  </td>
                  <td data-testid="user-role">{t(`role.${u.role}`)}</td>
                  <td data-testid="user-departments">{u.departments.map((code) => departmentName(desk.directory(), code)).join(t("common.list_separator")) || t("common.none")}</td>
                  <td data-testid="user-skills">{u.skills.join(t("common.list_separator"))}</td>
                  <td data-testid="user-state">
                    {u.active ? t("adminUsers.active") : t("adminUsers.disabled")}
                    <Show when={u.away}>
                      <span class="chip" data-testid="user-away">
                        {t("adminUsers.away")}
                      </span>
                    </Show>
                    <Show when={u.shifts}>
                      {(week) => (
                        <div class="muted" data-testid="user-shifts">
                          {t("adminUsers.shifts_summary", { hours: weeklyText(week()) })}
                        </div>
                      )}
                    </Show>
                  </td>
                  <td data-testid="user-totp" data-state={factorState(u)} classList={{ "admin-factor-missing": factorState(u) === "missing" }} title={factorState(u) === "unknown" ? (factorsError() ?? undefined) : undefined}>
                    {t(`adminUsers.totp_${factorState(u)}`)}
                  </td>
                  <td class="row-actions">
                    <button type="button" data-testid="user-edit" onClick={() => setEditing(u)}>
                      {t("adminUsers.edit")}
                    </button>
                    <Show
                      when={u.active}
                      fallback={
                        <button type="button" data-testid="user-enable" onClick={() => (setConfirmError(null), setConfirm({ kind: "enable", user: u }))}>
                          {t("adminUsers.enable")}
                        </button>
                      }
                    >
                      <button type="button" data-testid="user-disable" onClick={() => (setConfirmError(null), setConfirm({ kind: "disable", user: u }))}>
                        {t("adminUsers.disable")}
                      </button>
                    </Show>
                    <button type="button" data-testid="user-reset-password" onClick={() => setResetting(u)}>
                      {t("adminUsers.reset_password")}
                    </button>
                    <button type="button" data-testid="user-reset-totp" onClick={() => (setConfirmError(null), setConfirm({ kind: "totp", user: u }))}>
                      {t("adminUsers.reset_totp")}
                    </button>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={inviting()}>
        <InviteDialog
          departments={departments()}
          onClose={() => setInviting(false)}
          onAdded={(user) => {
            put(user);
            setFactor(user.id, false);
          }}
        />
      </Show>
      <Show when={editing()}>{(u) => <EditDialog user={u()} departments={departments()} onClose={() => setEditing(null)} onSaved={put} />}</Show>
      <Show when={resetting()}>{(u) => <ResetPasswordDialog user={u()} onClose={() => setResetting(null)} />}</Show>
      <Show when={confirm()}>
        {(c) => (
          <ConfirmDialog
            title={confirmText(c()).title}
            message={confirmText(c()).message}
            confirmLabel={confirmText(c()).label}
            confirmTestid="user-confirm"
            danger={c().kind !== "enable"}
            busy={busy()}
            error={confirmError()}
            onCancel={() => setConfirm(null)}
            onConfirm={() => void runConfirm()}
          />
        )}
      </Show>
    </section>
  );
}
