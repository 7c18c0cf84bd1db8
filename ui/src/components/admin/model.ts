// The settings types the admin screens edit, generated from Rust by ts-rs
// (`outpost_core::settings`, `sla`, `rules`; `outpost_store::admin`). Nothing here is a rule.
export type {
  Actions,
  BusinessCalendar,
  CalendarEffect,
  Catalogue,
  CategoryEntry,
  Classification,
  ClassificationRule,
  Condition,
  Department,
  FormBranding,
  MacroChanges,
  OrgProfile,
  OrgSettings,
  OrgSettingsView,
  Requirement,
  RiskMinimums,
  RuleSet,
  SensitiveAction,
  SettingsDoc,
  SettingsKind,
  SlaPolicy,
  SlaSettings,
  TagEntry,
  VerificationPolicy,
  VersionedSettings,
  WeeklyHours,
} from "../../backend";
import type { Template } from "../../backend";

/** A template or macro as the admin edits it (retired ones included). */
export type AdminTemplate = Template;
