import type { Category, Me, Ticket } from "../backend";

/** Supervisors and admins see the audit trail, reports, access records and redaction. */
export function isSupervisor(me: Me): boolean {
  return me.user.role === "supervisor" || me.user.role === "admin";
}

/** Categories outside the account domain (outpost-core `Category::is_account_domain`). */
const GENERAL: ReadonlySet<Category> = new Set<Category>(["complaint", "inquiry", "technical_fault", "feature_request"]);

export function isAccountDomain(category: Category): boolean {
  return !GENERAL.has(category);
}

/** outpost-core `Ticket::is_sensitive`: opening one is recorded in the audit chain. */
export function isSensitive(ticket: Pick<Ticket, "risk" | "category">): boolean {
  return ticket.risk !== "none" || isAccountDomain(ticket.category);
}
