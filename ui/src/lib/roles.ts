import type { Me } from "../backend";

/** Supervisors and admins see the audit trail, reports, access records and redaction. */
export function isSupervisor(me: Me): boolean {
  return me.user.role === "supervisor" || me.user.role === "admin";
}

/** Only admins see the admin area (the organisation's settings, users, intake keys). */
export function isAdmin(me: Me): boolean {
  return me.user.role === "admin";
}
