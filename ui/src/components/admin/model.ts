// The shapes of the settings documents the admin screens edit, as serde writes them
// (`outpost_core::settings`, `sla`, `rules`). They give way to the ts-rs types from Rust as
// those are generated (`ui/src/backend/types`); nothing here is a rule.
import type { Category, Channel, CustomerTier, Priority, RiskLevel, Status, VerificationDimension, Holiday, SpecialPeriod, OpenInterval } from "../../backend";

export type SettingsKind = "organisation" | "sla" | "rules" | "verification" | "catalogue";
export type FormBranding = {
  title: string;
  logo_png_base64: string | null;
  accent_colour: string;
  default_language: string;
  response_promise_hours: number | null;
};
export type OrgProfile = { name: string; default_department: string | null; require_two_factor: boolean; form: FormBranding };
export type SlaPolicy = {
  name: string;
  priority: Priority;
  category: Category | null;
  tier: CustomerTier | null;
  first_response_minutes: number | null;
  periodic_update_minutes: number | null;
  resolution_minutes: number | null;
  business_hours: boolean;
};
export type WeeklyHours = Record<"monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday", OpenInterval[]>;
export type BusinessCalendar = { name: string; tz: string; weekly: WeeklyHours; holidays: Holiday[]; special_periods: SpecialPeriod[] };
export type SlaSettings = { policies: SlaPolicy[]; calendar: BusinessCalendar; warn_share: number };
export type Condition =
  | "always"
  | { keywords_any: string[] }
  | { keywords_all: string[] }
  | { tier_in: CustomerTier[] }
  | { channel_in: Channel[] }
  | { business_type_in: string[] }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };
export type Actions = {
  category?: Category | null;
  priority?: Priority | null;
  risk?: RiskLevel | null;
  department?: string | null;
  tags?: string[];
  templates?: string[];
  bump_priority?: number;
};
export type ClassificationRule = { name: string; when: Condition; then: Actions; stop?: boolean };
export type RuleSet = { rules: ClassificationRule[] };
export type SensitiveAction = "freeze_account" | "intercept_transaction" | "unfreeze_account" | "password_reset" | "profile_change" | "permission_change" | "bind_device";
export type Requirement = { action: SensitiveAction; min_passed: number; required_dimensions: VerificationDimension[] };
export type RiskMinimums = { none: number; l3: number; l2: number; l1: number };
export type VerificationPolicy = { requirements: Requirement[]; default_for_risk: RiskMinimums };
export type CategoryEntry = { category: Category; label_en: string; label_zh: string; retired: boolean };
export type TagEntry = { tag: string; retired: boolean };
export type Catalogue = { categories: CategoryEntry[]; tags: TagEntry[] };
export type SettingsDoc =
  | { kind: "organisation"; doc: OrgProfile }
  | { kind: "sla"; doc: SlaSettings }
  | { kind: "rules"; doc: RuleSet }
  | { kind: "verification"; doc: VerificationPolicy }
  | { kind: "catalogue"; doc: Catalogue };
export type VersionedSettings = { version: number; updated_by: string | null; updated_at: string | null; settings: SettingsDoc };
export type OrgSettings = Record<SettingsKind, VersionedSettings>;
export type Department = { code: string; name: string; active: boolean };
export type MacroChanges = { status: Status | null; priority: Priority | null; add_tags: string[] };
export type AdminTemplate = { id: string; name: string; language: string; body: string; categories: Category[]; changes: MacroChanges; active: boolean };
export type OrgSettingsView = { settings: OrgSettings; departments: Department[]; templates: AdminTemplate[]; pending: SettingsKind[] };
export type Classification = {
  category: Category | null;
  priority: Priority | null;
  risk: RiskLevel | null;
  department: string | null;
  tags: string[];
  templates: string[];
  matched_rules: string[];
  priority_bump: number;
};
export type CalendarEffect = { open: number; moved: number };
