// Shapes owned by the desktop shell (src-tauri). Written by hand until they are generated with
// ts-rs into ./types; keep them all in this one file so the swap is a single import change.
import type { Category, ChangeNotice, Me, SyncStatus, User, VaultMode } from "./types";

export type KeychainState = "available" | "locked" | "missing";

export type Settings = {
  /** Minutes without input before the shell locks; 0 = never. */
  idle_lock_minutes: number;
  theme: "light" | "dark" | "system";
  language: "en" | "zh-CN";
};

export type Profile = { server: string; email: string; mode: VaultMode | null };

export type StartInfo = {
  profile: Profile | null;
  /** Non-null when the shell already signed in (e.g. the demo run). */
  me: Me | null;
  keychain: KeychainState;
  settings: Settings;
};

export type Template = {
  id: string;
  name: string;
  /** BCP 47 tag, matched against Ticket.language. */
  language: string;
  /** With {{customer.name}}, {{ticket.key}}, {{agent.name}}, {{ticket.subject}} placeholders. */
  body: string;
  /** Categories the template suits; empty = any. */
  categories: Category[];
};

export type Directory = { users: User[]; departments: string[] };

export type DeskEvent =
  | { kind: "status"; status: SyncStatus }
  | { kind: "changes"; notice: ChangeNotice }
  | { kind: "locked" };

/** Replaces QueueFilter.assignee once the types are regenerated. */
export type AssigneeFilter = { kind: "any" } | { kind: "unassigned" } | { kind: "user"; id: string };

/**
 * The queue filter with the new assignee shape. Still correct (a no-op) after regeneration,
 * when the generated QueueFilter carries AssigneeFilter itself.
 */
export type QueueFilter = Omit<import("./types").QueueFilter, "assignee"> & { assignee: AssigneeFilter };
