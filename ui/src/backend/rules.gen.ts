// Generated from outpost-core by crates/outpost-client/tests/ui_fixtures.rs; do not edit.
// regenerate with OUTPOST_UPDATE_FIXTURES=1 cargo test -p outpost-client --test ui_fixtures
import type { Category, FileType, RiskLevel, Role, Status, VerificationDimension, VerificationResult } from "./types";

/** Every status, in the order of the status machine (`Status::ALL`). */
export const STATUSES: Status[] = ["new", "triaged", "assigned", "in_progress", "pending", "resolved", "closed"];

/** The statuses of open tickets (`Status::is_open`). */
export const OPEN_STATUSES: Status[] = ["new", "triaged", "assigned", "in_progress", "pending"];

/** The identity-verification dimensions, in checklist order. */
export const VERIFICATION_DIMENSIONS: VerificationDimension[] = ["sms_code", "real_name_info", "transaction_password", "id_document", "usual_device", "transaction_habits", "face_liveness", "email_link"];

export const VERIFICATION_RESULTS: VerificationResult[] = ["passed", "failed", "not_available"];

/** A satisfaction score at or below this reopens the ticket (`LOW_CSAT_SCORE`). */
export const LOW_CSAT_SCORE = 2;

/** An L1 risk has the account frozen within this many seconds (`L1_FREEZE_WITHIN`). */
export const L1_FREEZE_WITHIN_SECONDS = 600;

/** Risk levels, least severe first (`RiskLevel::ALL`). */
export const RISK_LEVELS: RiskLevel[] = ["none", "L3", "L2", "L1"];

/** The levels each role may set a ticket at one level to (`settable_risks`): only
 * supervisors and admins lower a level. */
export const SETTABLE_RISKS: Record<Role, Record<RiskLevel, RiskLevel[]>> = { agent: { "none": ["none", "L3", "L2", "L1"], "L3": ["L3", "L2", "L1"], "L2": ["L2", "L1"], "L1": ["L1"] }, supervisor: { "none": ["none", "L3", "L2", "L1"], "L3": ["none", "L3", "L2", "L1"], "L2": ["none", "L3", "L2", "L1"], "L1": ["none", "L3", "L2", "L1"] }, admin: { "none": ["none", "L3", "L2", "L1"], "L3": ["none", "L3", "L2", "L1"], "L2": ["none", "L3", "L2", "L1"], "L1": ["none", "L3", "L2", "L1"] } };

/** The placeholders a template or macro body may use (`settings::TEMPLATE_PLACEHOLDERS`;
 * the Desk refuses any other). */
export const TEMPLATE_PLACEHOLDERS = ["customer.name", "ticket.key", "ticket.subject", "agent.name"] as const;

/** The product's categories (`Category::BUILT_IN`); an organisation adds its own in its
 * catalogue, retires any, and deletes none. */
export const BUILT_IN_CATEGORIES: Category[] = ["login_anomaly", "account_takeover", "transaction_failure", "funds_not_arrived", "reconciliation_mismatch", "permission_change", "profile_change", "verification_code_not_received", "activation_failure", "password_reset", "account_restricted", "kyc_review", "security_alert", "complaint", "inquiry", "technical_fault", "feature_request"];

/** Every kind of file Outpost stores (`files::FileType::ALL`), the choices of an
 * organisation's attachment policy. */
export const FILE_TYPES: FileType[] = ["pdf", "jpeg", "png", "gif", "webp", "zip", "text"];

/** The media types the desktop previews (`FileType::is_image`): decoded to pixels in Rust
 * and re-encoded as PNG; every other file is only saved. */
export const PREVIEWABLE_MIMES: string[] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/** The largest attachment anyone may send, in bytes (`apply::MAX_ATTACHMENT_BYTES`). */
export const MAX_ATTACHMENT_BYTES = 26214400;

/** The most files one customer message may carry (`files::MAX_ATTACHMENTS_PER_MESSAGE`). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 20;
