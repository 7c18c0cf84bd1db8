import type { Me, QueueFilter, Status } from "../backend";
import { OPEN_STATUSES, STATUSES } from "../backend/rules.gen";

export { OPEN_STATUSES };

export const ALL_STATUSES: Status[] = STATUSES;

export type ViewId = "my_open" | "unassigned" | "at_risk" | "breached" | "p1" | "pending" | "revisit" | "all";

export const VIEW_IDS: readonly ViewId[] = ["my_open", "unassigned", "at_risk", "breached", "p1", "pending", "revisit", "all"];

export type SavedView = { id: ViewId; filter: QueueFilter };

export function emptyFilter(): QueueFilter {
  return { statuses: [], priorities: [], departments: [], categories: [], assignee: { kind: "any" }, tag: null, sla: null, revisit: false };
}

/** The saved views of UI.md, built for the signed-in agent. */
export function savedViews(me: Me): SavedView[] {
  const base = emptyFilter();
  return [
    { id: "my_open", filter: { ...base, statuses: OPEN_STATUSES, assignee: { kind: "user", id: me.user.id } } },
    {
      id: "unassigned",
      filter: { ...base, statuses: OPEN_STATUSES, departments: [...me.user.departments], assignee: { kind: "unassigned" } },
    },
    { id: "at_risk", filter: { ...base, statuses: OPEN_STATUSES, sla: "at_risk" } },
    { id: "breached", filter: { ...base, statuses: OPEN_STATUSES, sla: "breached" } },
    { id: "p1", filter: { ...base, statuses: OPEN_STATUSES, priorities: ["P1"] } },
    { id: "pending", filter: { ...base, statuses: ["pending"] } },
    // A low satisfaction score reopened these; the customer is owed a call back.
    { id: "revisit", filter: { ...base, revisit: true } },
    { id: "all", filter: base },
  ];
}

/** Filter-bar choices narrow a view: a set choice replaces the view's own list for that field. */
export type FilterBar = {
  status: Status | null;
  priority: QueueFilter["priorities"][number] | null;
  department: string | null;
  category: QueueFilter["categories"][number] | null;
  sla: QueueFilter["sla"];
};

export function emptyBar(): FilterBar {
  return { status: null, priority: null, department: null, category: null, sla: null };
}

export function applyBar(filter: QueueFilter, bar: FilterBar): QueueFilter {
  return {
    ...filter,
    statuses: bar.status ? [bar.status] : filter.statuses,
    priorities: bar.priority ? [bar.priority] : filter.priorities,
    departments: bar.department ? [bar.department] : filter.departments,
    categories: bar.category ? [bar.category] : filter.categories,
    sla: bar.sla ?? filter.sla,
  };
}

/** Open tickets of one department, for the sidebar's department list. */
export function departmentFilter(department: string): QueueFilter {
  return { ...emptyFilter(), statuses: OPEN_STATUSES, departments: [department] };
}
