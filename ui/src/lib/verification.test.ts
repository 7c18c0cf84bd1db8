import { describe, expect, it } from "vitest";
import { evaluate, recordedChecks } from "./verification";
import type { Entry, VerificationCheck, VerificationDimension, VerificationResult } from "../backend";

const check = (dimension: VerificationDimension, result: VerificationResult = "passed"): VerificationCheck => ({ dimension, result, method: "call-back" });
const FIVE: VerificationDimension[] = ["sms_code", "real_name_info", "usual_device", "transaction_habits", "transaction_password"];
const passes = (ds: VerificationDimension[]) => ds.map((d) => check(d));

// The same cases as outpost-core rules/verification.rs, so the mirror cannot drift silently.
describe("verification gate (mirror of rules/verification.rs)", () => {
  it("L1 freeze and intercept need five passed dimensions", () => {
    for (const action of ["freeze_account", "intercept_transaction"] as const) {
      const four = evaluate(action, "L1", passes(FIVE.slice(0, 4)));
      expect(four.allowed).toBe(false);
      expect(four.needed).toBe(5);
      expect(evaluate(action, "L1", passes(FIVE)).allowed).toBe(true);
    }
  });

  it("lower risk needs fewer", () => {
    const two = passes(FIVE.slice(0, 2));
    expect(evaluate("freeze_account", "L3", two).allowed).toBe(true);
    expect(evaluate("freeze_account", "none", two).allowed).toBe(true);
    expect(evaluate("freeze_account", "L2", two).allowed).toBe(false);
    expect(evaluate("freeze_account", "L2", passes(FIVE.slice(0, 3))).allowed).toBe(true);
    expect(evaluate("freeze_account", "none", passes(FIVE.slice(0, 1))).allowed).toBe(false);
  });

  it("counts duplicates once; the latest result wins; not_available changes nothing", () => {
    expect(evaluate("freeze_account", "L1", [...passes(FIVE.slice(0, 4)), ...passes(FIVE.slice(0, 4))]).passed.size).toBe(4);
    const records = [...passes(FIVE), check("sms_code", "failed")];
    const failed = evaluate("freeze_account", "L1", records);
    expect(failed.allowed).toBe(false);
    expect([...failed.failed]).toEqual(["sms_code"]);
    records.push(check("sms_code"));
    expect(evaluate("freeze_account", "L1", records).allowed).toBe(true);
    records.push(check("sms_code", "not_available"), check("face_liveness", "not_available"));
    const after = evaluate("freeze_account", "L1", records);
    expect(after.allowed).toBe(true);
    expect(after.passed.size).toBe(5);
  });

  it("unfreeze requires real-name info and an ID document, five in all", () => {
    const noId = evaluate("unfreeze_account", "none", passes(FIVE));
    expect(noId.allowed).toBe(false);
    expect(noId.missingRequired).toEqual(["id_document"]);
    expect(evaluate("unfreeze_account", "none", [...passes(FIVE), check("id_document")]).allowed).toBe(true);
    const two = evaluate("unfreeze_account", "none", passes(["id_document", "real_name_info"]));
    expect(two.needed).toBe(5);
    expect(two.allowed).toBe(false);
  });

  it("reads checks from verification entries in time order", () => {
    const entry = (at: string, checks: VerificationCheck[]): Entry => ({ id: at, ticket_id: "t", author: null, created_at: at, body: { kind: "verification", checks } });
    const checks = recordedChecks([entry("2026-01-02T00:00:00Z", [check("sms_code", "failed")]), entry("2026-01-01T00:00:00Z", [check("sms_code")])]);
    expect(checks.map((c) => c.result)).toEqual(["passed", "failed"]);
  });
});
