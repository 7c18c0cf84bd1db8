// Account state from recorded risk actions and the L1 freeze clock, mirroring
// outpost-core rules/risk.rs.
import type { Entry, RiskActionKind, Ticket } from "../backend";

/** Seeds: an L1 risk has the account frozen within 10 minutes. */
export const L1_FREEZE_WITHIN_MS = 10 * 60 * 1000;

export type AccountState = { frozen: boolean; intercepted: Set<string> };

function chronological(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => a.created_at.localeCompare(b.created_at));
}

export function accountState(entries: Entry[]): AccountState {
  const state: AccountState = { frozen: false, intercepted: new Set() };
  for (const e of chronological(entries)) {
    if (e.body.kind !== "risk_action") continue;
    if (e.body.action === "freeze_account") state.frozen = true;
    else if (e.body.action === "unfreeze_account") state.frozen = false;
    else state.intercepted.add(e.body.target.trim());
  }
  return state;
}

/** Why an action makes no sense in the account's state, as an i18n key; null when it does. */
export function stateRefusal(action: RiskActionKind, state: AccountState, target: string): string | null {
  if (!target.trim()) return "risk.refusal.missing_target";
  if (action === "freeze_account" && state.frozen) return "risk.refusal.already_frozen";
  if (action === "unfreeze_account" && !state.frozen) return "risk.refusal.not_frozen";
  if (action === "intercept_transaction" && state.intercepted.has(target.trim())) return "risk.refusal.already_intercepted";
  return null;
}

export type L1Clock =
  | { kind: "running"; remainingMs: number; deadline: number }
  | { kind: "overdue"; overdueMs: number; deadline: number }
  | { kind: "met"; tookMs: number }
  | { kind: "missed"; lateMs: number };

/** When the ticket became L1: the latest change to L1, else its creation if it started as L1. */
export function l1RaisedAt(ticket: Ticket, entries: Entry[]): number | null {
  if (ticket.risk !== "L1") return null;
  let raised: number | null = null;
  for (const e of chronological(entries)) {
    if (e.body.kind === "event" && e.body.event.type === "risk_changed" && e.body.event.to === "L1") {
      raised = Date.parse(e.created_at);
    }
  }
  return raised ?? Date.parse(ticket.created_at);
}

export function l1Clock(ticket: Ticket, entries: Entry[], nowMs: number): L1Clock | null {
  const raised = l1RaisedAt(ticket, entries);
  if (raised === null) return null;
  const deadline = raised + L1_FREEZE_WITHIN_MS;
  const freeze = chronological(entries).find(
    (e) => e.body.kind === "risk_action" && e.body.action === "freeze_account" && Date.parse(e.created_at) >= raised,
  );
  if (freeze) {
    const at = Date.parse(freeze.created_at);
    return at <= deadline ? { kind: "met", tookMs: Math.max(0, at - raised) } : { kind: "missed", lateMs: at - deadline };
  }
  return nowMs <= deadline
    ? { kind: "running", remainingMs: deadline - nowMs, deadline }
    : { kind: "overdue", overdueMs: nowMs - deadline, deadline };
}
