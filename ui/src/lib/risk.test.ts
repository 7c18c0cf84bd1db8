import { describe, expect, it } from "vitest";
import { accountState, l1Clock, stateRefusal } from "./risk";
import type { Entry, Ticket } from "../backend";
import { generateTickets } from "../backend/mock-data";

const T0 = Date.parse("2026-03-01T10:00:00Z");
const iso = (min: number) => new Date(T0 + min * 60_000).toISOString();
const base = generateTickets(1, T0)[0]!.ticket;
const ticket = (patch: Partial<Ticket>): Ticket => ({ ...base, created_at: iso(0), ...patch });
const risk = (min: number, action: "freeze_account" | "unfreeze_account" | "intercept_transaction", target = "acct-1"): Entry => ({
  id: `r${min}`,
  ticket_id: base.id,
  author: "u",
  created_at: iso(min),
  body: { kind: "risk_action", action, target, reason: "r" },
});
const raised = (min: number): Entry => ({
  id: `e${min}`,
  ticket_id: base.id,
  author: "u",
  created_at: iso(min),
  body: { kind: "event", event: { type: "risk_changed", from: "L2", to: "L1" } },
});

describe("L1 freeze clock", () => {
  it("runs 10 minutes from the raise, then is overdue", () => {
    const tk = ticket({ risk: "L1" });
    expect(l1Clock(tk, [raised(5)], T0 + 7 * 60_000)).toMatchObject({ kind: "running", remainingMs: 8 * 60_000 });
    expect(l1Clock(tk, [raised(5)], T0 + 16 * 60_000)).toMatchObject({ kind: "overdue", overdueMs: 60_000 });
    // Created as L1: the clock starts at creation.
    expect(l1Clock(tk, [], T0 + 60_000)).toMatchObject({ kind: "running", remainingMs: 9 * 60_000 });
  });

  it("is met by a freeze at or before the deadline and missed after it", () => {
    const tk = ticket({ risk: "L1" });
    expect(l1Clock(tk, [risk(10, "freeze_account")], T0 + 99 * 60_000)).toEqual({ kind: "met", tookMs: 10 * 60_000 });
    expect(l1Clock(tk, [risk(12, "freeze_account")], T0 + 99 * 60_000)).toEqual({ kind: "missed", lateMs: 2 * 60_000 });
  });

  it("does not run below L1", () => {
    expect(l1Clock(ticket({ risk: "L2" }), [], T0)).toBeNull();
  });
});

describe("account state", () => {
  it("replays freezes, unfreezes and interceptions", () => {
    const state = accountState([risk(1, "freeze_account"), risk(2, "intercept_transaction", "tx-9"), risk(3, "unfreeze_account")]);
    expect(state.frozen).toBe(false);
    expect(stateRefusal("unfreeze_account", state, "acct-1")).toBe("risk.refusal.not_frozen");
    expect(stateRefusal("intercept_transaction", state, " tx-9 ")).toBe("risk.refusal.already_intercepted");
    expect(stateRefusal("freeze_account", state, "  ")).toBe("risk.refusal.missing_target");
    expect(stateRefusal("freeze_account", state, "acct-1")).toBeNull();
    expect(stateRefusal("freeze_account", accountState([risk(1, "freeze_account")]), "acct-1")).toBe("risk.refusal.already_frozen");
  });
});
