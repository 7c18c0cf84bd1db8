import { createResource, For } from "solid-js";
import type { Department, Directory, Ticket, User } from "../backend";
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
 * Who the signed-in user may hand the ticket to, decided by the core (`may_assign`, the rule the
 * server enforces); asked again whenever the ticket changes. Until the answer arrives nobody is
 * marked, and a refused choice would come back as the server's refusal.
 */
function useAllowed(ticket: () => Ticket) {
  const desk = useDesk();
  const [answer] = createResource(
    () => ({ id: ticket().id, key: `${ticket().assignee ?? ""}:${ticket().department ?? ""}:${ticket().updated_at}` }),
    ({ id }) => desk.backend.assignees(id),
  );
  return (id: string): boolean => {
    if (answer.error) return true;
    return answer.latest?.find((a) => a.user === id)?.allowed ?? true;
  };
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
  const mayAssign = useAllowed(() => props.ticket);
  const groups = () => assigneeGroups(desk.directory(), props.ticket);
  const people = () => groups().flatMap((g) => g.people);
  const load = useLoads(people, () => `${props.ticket.id}:${props.ticket.assignee ?? ""}:${props.ticket.updated_at}`);
  const label = (u: User) => {
    const parts = [u.name, t(`role.${u.role}`)];
    const n = load(u.id);
    if (n !== null) parts.push(t("ticket.assignee.load", { count: n }));
    if (u.away) parts.push(t("ticket.assignee.away"));
    if (!mayAssign(u.id)) parts.push(t("ticket.assignee.needs_supervisor"));
    return parts.join(" · ");
  };
  const outsideNote = () => people().some((u) => !mayAssign(u.id));
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
                  <option value={u.id} disabled={!mayAssign(u.id)} data-away={String(u.away)}>
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
