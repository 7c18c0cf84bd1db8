// Mirrors outpost-core rules/verification.rs (VerificationPolicy::default). The server and the
// Rust core decide; this copy only tells the agent up front which actions are open and why not.
import type {
  Entry,
  RiskActionKind,
  RiskLevel,
  VerificationCheck,
  VerificationDimension,
  VerificationResult,
} from "../backend";

export const DIMENSIONS: VerificationDimension[] = [
  "sms_code",
  "real_name_info",
  "transaction_password",
  "id_document",
  "usual_device",
  "transaction_habits",
  "face_liveness",
  "email_link",
];

export const RESULTS: VerificationResult[] = ["passed", "failed", "not_available"];

const MIN_FOR_RISK: Record<RiskLevel, number> = { none: 2, L3: 2, L2: 3, L1: 5 };

const REQUIREMENTS: Record<RiskActionKind, { min: number; required: VerificationDimension[] }> = {
  freeze_account: { min: 0, required: [] },
  intercept_transaction: { min: 0, required: [] },
  // Unfreezing hands control back: 5 at any risk level, with real-name info and an ID document.
  unfreeze_account: { min: 5, required: ["real_name_info", "id_document"] },
};

export type VerificationDecision = {
  allowed: boolean;
  passed: Set<VerificationDimension>;
  failed: Set<VerificationDimension>;
  needed: number;
  missingRequired: VerificationDimension[];
};

/** The latest definitive result per dimension; `not_available` changes nothing. */
export function latestResults(records: VerificationCheck[]): Map<VerificationDimension, VerificationCheck> {
  const latest = new Map<VerificationDimension, VerificationCheck>();
  for (const check of records) {
    if (check.result !== "not_available") latest.set(check.dimension, check);
  }
  return latest;
}

export function evaluate(action: RiskActionKind, risk: RiskLevel, records: VerificationCheck[]): VerificationDecision {
  const latest = latestResults(records);
  const passed = new Set<VerificationDimension>();
  const failed = new Set<VerificationDimension>();
  for (const [dimension, check] of latest) (check.result === "passed" ? passed : failed).add(dimension);
  const requirement = REQUIREMENTS[action];
  const needed = Math.max(MIN_FOR_RISK[risk], requirement.min, requirement.required.length);
  const missingRequired = DIMENSIONS.filter((d) => requirement.required.includes(d) && !passed.has(d));
  return {
    allowed: missingRequired.length === 0 && passed.size >= needed,
    passed,
    failed,
    needed,
    missingRequired,
  };
}

/** Every verification check recorded in a ticket's timeline, oldest first. */
export function recordedChecks(entries: Entry[]): VerificationCheck[] {
  const sorted = [...entries].sort((a, b) => a.created_at.localeCompare(b.created_at));
  return sorted.flatMap((e) => (e.body.kind === "verification" ? e.body.checks : []));
}
