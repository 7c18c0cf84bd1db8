import { createResource, For } from "solid-js";
import type { Department, Directory, Role, Ticket, User } from "../backend";
import { useDesk } from "../state/app";
import { OPEN_STATUSES } from "../backend/rules.gen";
import { emptyFilter } from "../lib/views";
import { t } from "../i18n";

export type AssigneeGroup = { code: string | null; name: string; people: User[] };

/**
 * The people the picker offers, grouped: the ticket's department first, then each other
 * department in the directory's order, then people in none. Everyone appears once (in the
 * ticket's department if they work there, else in their first department); disabled people
 * only when they hold the ticket.
 */
export function assigneeGroups(directory: Directory, ticket: Ticket): AssigneeGroup[] {
  const offered = directory.users.filter((u) => u.active || u.id === ticket.assignee);
  const order: Department[] = [
    ...directory.departments.filter((d) => d.code === ticket.department),
    ...directory.departments.filter((d) => d.code !== ticket.department),
  ];
  const placed = new Set<string>();
  const groups: AssigneeGroup[] = [];
  for (const d of order) {
    const people = offered.filter((u) => !placed.has(u.id) && u.departments.includes(d.code));
    for (const u of people) placed.add(u.id);
    if (people.length) groups.push({ code: d.code, name: d.name, people });
  }
  const rest = offered.filter((u) => !placed.has(u.id));
  if (rest.length) groups.push({ code: null, name: t("ticket.assignee.no_department"), people: rest });
  return groups;
}

/**
 * Whether `role` may hand the ticket to `user` (outpost-core `apply::check_references`): within
 * the ticket's department, to a supervisor or admin, or by a supervisor or admin; naming the
 * current holder again hands nothing over.
 */
export function mayAssign(role: Role, user: User, ticket: Ticket): boolean {
  if (role !== "agent" || user.role !== "agent" || user.id === ticket.assignee) return true;
  return ticket.department !== null && user.departments.includes(ticket.department);
}

/** Open tickets each person holds, counted in this device's cache (what this user can see). */
function useLoads(users: () => User[], key: () => string) {
  const desk = useDesk();
  const [loads] = createResource(
    () => ({ key: key(), ids: users().map((u) => u.id) }),
    async ({ ids }) => {
      const counts = await Promise.all(
        ids.map((id) =>
          desk.backend.queueCount({ ...emptyFilter(), statuses: OPEN_STATUSES, assignee: { kind: "user", id } }).catch(() => null),
        ),
      );
      return new Map(ids.map((id, i) => [id, counts[i] ?? null]));
    },
  );
  return (id: string): number | null => (loads.error ? null : (loads.latest?.get(id) ?? null));
}

/** Who holds the ticket: people grouped by department with role, load and away status. */
export function AssigneePicker(props: { ticket: Ticket; onAssign: (assignee: string | null) => void }) {
  const desk = useDesk();
  const role = desk.me.user.role;
  const groups = () => assigneeGroups(desk.directory(), props.ticket);
  const people = () => groups().flatMap((g) => g.people);
  const load = useLoads(people, () => `${props.ticket.id}:${props.ticket.assignee ?? ""}:${props.ticket.updated_at}`);
  const label = (u: User) => {
    const parts = [u.name, t(`role.${u.role}`)];
    const n = load(u.id);
    if (n !== null) parts.push(t("ticket.assignee.load", { count: n }));
    if (u.away) parts.push(t("ticket.assignee.away"));
    if (!mayAssign(role, u, props.ticket)) parts.push(t("ticket.assignee.needs_supervisor"));
    return parts.join(" · ");
  };
  const outsideNote = () => role === "agent" && people().some((u) => !mayAssign(role, u, props.ticket));
  return (
    <label class="control">
      <span>{t("ticket.assignee")}</span>
      <select
        data-testid="assignee-select"
        value={props.ticket.assignee ?? ""}
        title={outsideNote() ? t("ticket.assignee.outside_hint") : undefined}
        onChange={(e) => props.onAssign(e.currentTarget.value || null)}
      >
        <option value="">{t("ticket.unassigned")}</option>
        <For each={groups()}>
          {(g) => (
            <optgroup label={g.code === props.ticket.department && g.code !== null ? t("ticket.assignee.this_department", { name: g.name }) : g.name} data-department={g.code ?? ""}>
              <For each={g.people}>
                {(u) => (
                  <option value={u.id} disabled={!mayAssign(role, u, props.ticket)} data-away={String(u.away)}>
                    {label(u)}
                  </option>
                )}
              </For>
            </optgroup>
          )}
        </For>
      </select>
    </label>
  );
}
