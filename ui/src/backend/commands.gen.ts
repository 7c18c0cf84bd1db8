// Generated from the command table (src-tauri/src/command_table.rs) by
// src-tauri/tests/commands.rs; do not edit. To change a command, change its entry in the
// table, then regenerate with OUTPOST_UPDATE_COMMANDS=1 cargo test -p outpost-desktop --features ts --test commands

import type { AddedUser, AdminUser, AssigneeOption, AttachmentView, AuditPage, AuditQuery, BusinessCalendar, CalendarEffect, ChainCheck, Classification, ConflictRecord, CreatedIntakeKey, Credentials, Department, DeskEvent, Directory, ExportCheck, ExportFormat, ImagePreview, IntakeKeyInfo, InviteKind, LocalChange, Me, MonthDay, Mutation, NewUser, OrgSettingsView, QueueCursor, QueueFilter, QueuePage, QueueSort, Report, ReportParams, RuleSet, SavedExport, SavedFile, SearchHit, Settings, SettingsDoc, SlaSettings, StartInfo, Status, SyncProblem, SyncStatus, Template, TicketDetail, TotpSecret, User, UserPatch, VerifyProgress } from "./types";

/** The arguments of `signIn`. */
export type SignInArgs = {
  server: string;
  email: string;
  password: string;
  totp: string | null;
  passphrase: string | null;
};

export type StartupMark = "signin-ready" | "queue-ready";

/** Every command, in table order. */
export const COMMANDS = [
  "app_start",
  "sign_in",
  "unlock",
  "lock",
  "sign_out",
  "activity",
  "settings_set",
  "subscribe",
  "queue",
  "queue_count",
  "ticket",
  "resolve_key",
  "search",
  "change",
  "reply",
  "note",
  "templates",
  "directory",
  "assignees",
  "status_machine",
  "conflicts",
  "sync_problems",
  "dismiss",
  "reapply",
  "sync_status",
  "sync_now",
  "startup_mark",
  "report",
  "audit_page",
  "audit_verify",
  "audit_export",
  "audit_check_export",
  "save_file",
  "ticket_keys",
  "org_settings",
  "change_settings",
  "put_department",
  "put_template",
  "preview_rules",
  "calendar_effect",
  "calendar_month",
  "attach_file",
  "attachments",
  "cancel_attachment",
  "fetch_attachment",
  "save_attachment",
  "preview_attachment",
  "admin_users",
  "admin_add_user",
  "admin_update_user",
  "admin_enable_user",
  "admin_disable_user",
  "admin_reset_password",
  "admin_reset_totp",
  "admin_intake_keys",
  "admin_add_intake_key",
  "admin_revoke_intake_key",
  "totp_setup",
  "totp_enable",
] as const;

export type CommandName = (typeof COMMANDS)[number];

/** How a backend reaches the commands: Tauri's IPC, or the development bridge over HTTP. */
export interface Transport {
  /** Runs a command with its arguments (camelCase keys); rejects with a BackendError. */
  call<T>(command: CommandName, args: Record<string, unknown>): Promise<T>;
  /** Runs a command that sends messages on its channel argument `channel` to `onMessage`. */
  stream<T, M>(
    command: CommandName,
    args: Record<string, unknown>,
    channel: string,
    onMessage: (message: M) => void,
  ): Promise<T>;
  /**
   * Runs a command whose body is raw bytes (a file); its other arguments travel as
   * `x-outpost-<kebab-name>` headers, percent-encoded.
   */
  raw<T>(command: CommandName, args: Record<string, string>, body: Uint8Array): Promise<T>;
}

/** The desktop's commands, as the UI calls them. */
export interface Backend {
  /**
   * The picture at start-up: profiles, keychain, whether a session is open. Waits for
   * the start-up sign-in, if any.
   */
  appStart(): Promise<StartInfo>;
  /** Signs in to a server; opens (or creates) the profile's encrypted cache. */
  signIn(args: SignInArgs): Promise<Me>;
  /** Opens the last profile's cache again (keychain, or the passphrase given). */
  unlock(passphrase: string | null): Promise<Me>;
  /** Closes the cache and stops syncing; the session stays signed in. */
  lock(): Promise<void>;
  /** Signs out; refuses while changes are unsent unless `discard_unsent`. */
  signOut(discardUnsent: boolean): Promise<void>;
  /** Tells the shell the user is active (resets the idle lock). */
  activity(): Promise<void>;
  /** Saves the user's settings and answers what was saved. */
  settingsSet(settings: Settings): Promise<Settings>;
  /** Delivers shell events for the rest of the app's life. */
  subscribe(onEvent: (message: DeskEvent) => void): Promise<void>;
  /** One page of the queue (at most `MAX_PAGE` rows). */
  queue(filter: QueueFilter, sort: QueueSort, cursor: QueueCursor | null, limit: number): Promise<QueuePage>;
  /** How many tickets the filter selects. */
  queueCount(filter: QueueFilter): Promise<number>;
  /** A ticket with its timeline (records that this user viewed it). */
  ticket(id: string): Promise<TicketDetail>;
  /** The id of the ticket with this human key (`OP-123`). */
  resolveKey(key: string): Promise<string>;
  /** Full-text search over the cache (at most `MAX_HITS` hits). */
  search(query: string, limit: number): Promise<Array<SearchHit>>;
  /** Applies a change locally and queues it for the server. */
  change(mutation: Mutation): Promise<LocalChange>;
  /** A reply to the customer. */
  reply(ticketId: string, text: string): Promise<LocalChange>;
  /** An internal note. */
  note(ticketId: string, text: string): Promise<LocalChange>;
  /** The organisation's reply templates. */
  templates(): Promise<Array<Template>>;
  /** Users and departments, for names and pickers. */
  directory(): Promise<Directory>;
  /**
   * Everyone the assignee picker offers for a ticket, with whether the signed-in
   * user may hand it to them (the core's rule, as the server applies it).
   */
  assignees(ticketId: string): Promise<Array<AssigneeOption>>;
  /** Every status with the statuses it may move to. */
  statusMachine(): Promise<Array<[Status, Array<Status>]>>;
  /** Changes the server decided differently. */
  conflicts(): Promise<Array<ConflictRecord>>;
  /** Changes the server refused. */
  syncProblems(): Promise<Array<SyncProblem>>;
  /** Dismisses a conflict or sync problem record. */
  dismiss(record: number): Promise<void>;
  /** Applies a refused change again, as a new change. */
  reapply(record: number): Promise<LocalChange>;
  /** Connectivity, unsent changes, last sync. */
  syncStatus(): Promise<SyncStatus>;
  /** Syncs now and answers the status after it. */
  syncNow(): Promise<SyncStatus>;
  /**
   * Tells the shell a start-up milestone was reached (its log marker for the
   * benchmark).
   */
  startupMark(name: StartupMark): Promise<void>;
  /** Reports computed from the local cache; works offline. Supervisors only. */
  report(params: ReportParams): Promise<Report>;
  /** One page of the server's audit trail (online only: `offline` otherwise). */
  auditPage(query: AuditQuery): Promise<AuditPage>;
  /**
   * Reads the whole chain from the server and recomputes every hash on this device,
   * reporting progress after each page.
   */
  auditVerify(onProgress?: (message: VerifyProgress) => void): Promise<ChainCheck>;
  /** Writes the events the query selects to a new file in the user's Downloads folder. */
  auditExport(query: AuditQuery, format: ExportFormat): Promise<SavedExport>;
  /**
   * Checks an export file's text offline (the page reads the file; Rust never opens
   * paths the page names).
   */
  auditCheckExport(text: string): Promise<ExportCheck>;
  /**
   * Saves page-made content (a report table as CSV) to Downloads under a sanitised
   * name.
   */
  saveFile(name: string, content: string): Promise<SavedFile>;
  /** Keys of cached tickets by id (no view is recorded); unknown ids are left out. */
  ticketKeys(ids: Array<string>): Promise<Array<[string, string]>>;
  /**
   * The organisation's settings, departments and templates as this device sees them
   * (with this admin's queued edits); works offline.
   */
  orgSettings(): Promise<OrgSettingsView>;
  /**
   * Replaces a settings document made on `base_version` (queued like any change).
   * Admins only.
   */
  changeSettings(baseVersion: number, settings: SettingsDoc): Promise<OrgSettingsView>;
  /** Adds, renames, retires or restores a department (queued). Admins only. */
  putDepartment(department: Department): Promise<OrgSettingsView>;
  /** Adds, edits, retires or restores a template or macro (queued). Admins only. */
  putTemplate(template: Template): Promise<OrgSettingsView>;
  /** What the given rules make of a text (the rules screen's "try it"). Admins only. */
  previewRules(rules: RuleSet, subject: string, description: string): Promise<Classification>;
  /** How many open tickets' deadlines the given SLA settings would move. Admins only. */
  calendarEffect(sla: SlaSettings): Promise<CalendarEffect>;
  /**
   * Each day of a month under the given calendar (the one being edited): its hours,
   * and the holiday or special period that set them. Admins only.
   */
  calendarMonth(calendar: BusinessCalendar, year: number, month: number): Promise<Array<MonthDay>>;
  /**
   * Attaches a file to a ticket. The file's bytes are the call's raw body; its type is
   * decided from them (never from the name), then it waits in the outbox with its
   * bytes in the encrypted cache and uploads when the network allows.
   */
  attachFile(ticketId: string, filename: string, data: Uint8Array): Promise<AttachmentView>;
  /** A ticket's attachments with where their bytes are. */
  attachments(ticketId: string): Promise<Array<AttachmentView>>;
  /** Withdraws an attachment that has not reached the server yet. */
  cancelAttachment(ticketId: string, attachmentId: string): Promise<void>;
  /** Downloads an attachment into the cache now (online only). */
  fetchAttachment(ticketId: string, attachmentId: string): Promise<AttachmentView>;
  /**
   * Asks where to save an attachment (the system's save dialog, shown by the shell)
   * and writes it there; `null` when the user cancelled. Nothing is opened or run.
   */
  saveAttachment(ticketId: string, attachmentId: string): Promise<SavedFile | null>;
  /**
   * An image attachment decoded here and re-encoded as PNG, scaled to fit 1600 × 1600
   * (JPEG, PNG, GIF and WebP only).
   */
  previewAttachment(ticketId: string, attachmentId: string): Promise<ImagePreview>;
  /** Everyone with their second factor's state, never the secret (online only). */
  adminUsers(): Promise<Array<AdminUser>>;
  /** Adds a user with a one-time password or an invitation link (online only). */
  adminAddUser(user: NewUser): Promise<AddedUser>;
  /** Changes a user's name, role, departments, skills or away status (online only). */
  adminUpdateUser(id: string, patch: UserPatch): Promise<User>;
  /** Lets a disabled user sign in again (online only). */
  adminEnableUser(id: string): Promise<User>;
  /** Disables a user and ends their sessions (online only). */
  adminDisableUser(id: string): Promise<void>;
  /** A new one-time password or invitation link for a user (online only). */
  adminResetPassword(id: string, invite: InviteKind): Promise<Credentials>;
  /** Removes a user's second factor (online only). */
  adminResetTotp(id: string): Promise<User>;
  /** Every intake key, revoked ones included (online only). */
  adminIntakeKeys(): Promise<Array<IntakeKeyInfo>>;
  /** A new intake key, shown this once (online only). */
  adminAddIntakeKey(name: string): Promise<CreatedIntakeKey>;
  /** Revokes an intake key (online only). */
  adminRevokeIntakeKey(id: string): Promise<IntakeKeyInfo>;
  /**
   * Starts enrolling an authenticator for the signed-in user: the password (and a
   * current code when one is enabled already) for a new secret (online only).
   */
  totpSetup(password: string, code?: string | null): Promise<TotpSecret>;
  /**
   * Enables the authenticator being enrolled with a code from it; a session the
   * organisation limited to enrolling becomes a full one (online only).
   */
  totpEnable(code: string): Promise<void>;
}

/** The Backend over a Transport: each method is its command with the arguments by name. */
export class CommandBackend implements Backend {
  private readonly transport: Transport;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  appStart(): Promise<StartInfo> {
    return this.transport.call<StartInfo>("app_start", {});
  }

  signIn(args: SignInArgs): Promise<Me> {
    return this.transport.call<Me>("sign_in", { ...args });
  }

  unlock(passphrase: string | null): Promise<Me> {
    return this.transport.call<Me>("unlock", { passphrase });
  }

  async lock(): Promise<void> {
    await this.transport.call<null>("lock", {});
  }

  async signOut(discardUnsent: boolean): Promise<void> {
    await this.transport.call<null>("sign_out", { discardUnsent });
  }

  async activity(): Promise<void> {
    await this.transport.call<null>("activity", {});
  }

  settingsSet(settings: Settings): Promise<Settings> {
    return this.transport.call<Settings>("settings_set", { settings });
  }

  async subscribe(onEvent: (message: DeskEvent) => void): Promise<void> {
    await this.transport.stream<null, DeskEvent>("subscribe", {}, "onEvent", onEvent);
  }

  queue(filter: QueueFilter, sort: QueueSort, cursor: QueueCursor | null, limit: number): Promise<QueuePage> {
    return this.transport.call<QueuePage>("queue", { filter, sort, cursor, limit });
  }

  queueCount(filter: QueueFilter): Promise<number> {
    return this.transport.call<number>("queue_count", { filter });
  }

  ticket(id: string): Promise<TicketDetail> {
    return this.transport.call<TicketDetail>("ticket", { id });
  }

  resolveKey(key: string): Promise<string> {
    return this.transport.call<string>("resolve_key", { key });
  }

  search(query: string, limit: number): Promise<Array<SearchHit>> {
    return this.transport.call<Array<SearchHit>>("search", { query, limit });
  }

  change(mutation: Mutation): Promise<LocalChange> {
    return this.transport.call<LocalChange>("change", { mutation });
  }

  reply(ticketId: string, text: string): Promise<LocalChange> {
    return this.transport.call<LocalChange>("reply", { ticketId, text });
  }

  note(ticketId: string, text: string): Promise<LocalChange> {
    return this.transport.call<LocalChange>("note", { ticketId, text });
  }

  templates(): Promise<Array<Template>> {
    return this.transport.call<Array<Template>>("templates", {});
  }

  directory(): Promise<Directory> {
    return this.transport.call<Directory>("directory", {});
  }

  assignees(ticketId: string): Promise<Array<AssigneeOption>> {
    return this.transport.call<Array<AssigneeOption>>("assignees", { ticketId });
  }

  statusMachine(): Promise<Array<[Status, Array<Status>]>> {
    return this.transport.call<Array<[Status, Array<Status>]>>("status_machine", {});
  }

  conflicts(): Promise<Array<ConflictRecord>> {
    return this.transport.call<Array<ConflictRecord>>("conflicts", {});
  }

  syncProblems(): Promise<Array<SyncProblem>> {
    return this.transport.call<Array<SyncProblem>>("sync_problems", {});
  }

  async dismiss(record: number): Promise<void> {
    await this.transport.call<null>("dismiss", { record });
  }

  reapply(record: number): Promise<LocalChange> {
    return this.transport.call<LocalChange>("reapply", { record });
  }

  syncStatus(): Promise<SyncStatus> {
    return this.transport.call<SyncStatus>("sync_status", {});
  }

  syncNow(): Promise<SyncStatus> {
    return this.transport.call<SyncStatus>("sync_now", {});
  }

  async startupMark(name: StartupMark): Promise<void> {
    await this.transport.call<null>("startup_mark", { name });
  }

  report(params: ReportParams): Promise<Report> {
    return this.transport.call<Report>("report", { params });
  }

  auditPage(query: AuditQuery): Promise<AuditPage> {
    return this.transport.call<AuditPage>("audit_page", { query });
  }

  auditVerify(onProgress?: (message: VerifyProgress) => void): Promise<ChainCheck> {
    return this.transport.stream<ChainCheck, VerifyProgress>("audit_verify", {}, "onProgress", onProgress ?? (() => {}));
  }

  auditExport(query: AuditQuery, format: ExportFormat): Promise<SavedExport> {
    return this.transport.call<SavedExport>("audit_export", { query, format });
  }

  auditCheckExport(text: string): Promise<ExportCheck> {
    return this.transport.call<ExportCheck>("audit_check_export", { text });
  }

  saveFile(name: string, content: string): Promise<SavedFile> {
    return this.transport.call<SavedFile>("save_file", { name, content });
  }

  ticketKeys(ids: Array<string>): Promise<Array<[string, string]>> {
    return this.transport.call<Array<[string, string]>>("ticket_keys", { ids });
  }

  orgSettings(): Promise<OrgSettingsView> {
    return this.transport.call<OrgSettingsView>("org_settings", {});
  }

  changeSettings(baseVersion: number, settings: SettingsDoc): Promise<OrgSettingsView> {
    return this.transport.call<OrgSettingsView>("change_settings", { baseVersion, settings });
  }

  putDepartment(department: Department): Promise<OrgSettingsView> {
    return this.transport.call<OrgSettingsView>("put_department", { department });
  }

  putTemplate(template: Template): Promise<OrgSettingsView> {
    return this.transport.call<OrgSettingsView>("put_template", { template });
  }

  previewRules(rules: RuleSet, subject: string, description: string): Promise<Classification> {
    return this.transport.call<Classification>("preview_rules", { rules, subject, description });
  }

  calendarEffect(sla: SlaSettings): Promise<CalendarEffect> {
    return this.transport.call<CalendarEffect>("calendar_effect", { sla });
  }

  calendarMonth(calendar: BusinessCalendar, year: number, month: number): Promise<Array<MonthDay>> {
    return this.transport.call<Array<MonthDay>>("calendar_month", { calendar, year, month });
  }

  attachFile(ticketId: string, filename: string, data: Uint8Array): Promise<AttachmentView> {
    return this.transport.raw<AttachmentView>("attach_file", { ticketId, filename }, data);
  }

  attachments(ticketId: string): Promise<Array<AttachmentView>> {
    return this.transport.call<Array<AttachmentView>>("attachments", { ticketId });
  }

  async cancelAttachment(ticketId: string, attachmentId: string): Promise<void> {
    await this.transport.call<null>("cancel_attachment", { ticketId, attachmentId });
  }

  fetchAttachment(ticketId: string, attachmentId: string): Promise<AttachmentView> {
    return this.transport.call<AttachmentView>("fetch_attachment", { ticketId, attachmentId });
  }

  saveAttachment(ticketId: string, attachmentId: string): Promise<SavedFile | null> {
    return this.transport.call<SavedFile | null>("save_attachment", { ticketId, attachmentId });
  }

  previewAttachment(ticketId: string, attachmentId: string): Promise<ImagePreview> {
    return this.transport.call<ImagePreview>("preview_attachment", { ticketId, attachmentId });
  }

  adminUsers(): Promise<Array<AdminUser>> {
    return this.transport.call<Array<AdminUser>>("admin_users", {});
  }

  adminAddUser(user: NewUser): Promise<AddedUser> {
    return this.transport.call<AddedUser>("admin_add_user", { user });
  }

  adminUpdateUser(id: string, patch: UserPatch): Promise<User> {
    return this.transport.call<User>("admin_update_user", { id, patch });
  }

  adminEnableUser(id: string): Promise<User> {
    return this.transport.call<User>("admin_enable_user", { id });
  }

  async adminDisableUser(id: string): Promise<void> {
    await this.transport.call<null>("admin_disable_user", { id });
  }

  adminResetPassword(id: string, invite: InviteKind): Promise<Credentials> {
    return this.transport.call<Credentials>("admin_reset_password", { id, invite });
  }

  adminResetTotp(id: string): Promise<User> {
    return this.transport.call<User>("admin_reset_totp", { id });
  }

  adminIntakeKeys(): Promise<Array<IntakeKeyInfo>> {
    return this.transport.call<Array<IntakeKeyInfo>>("admin_intake_keys", {});
  }

  adminAddIntakeKey(name: string): Promise<CreatedIntakeKey> {
    return this.transport.call<CreatedIntakeKey>("admin_add_intake_key", { name });
  }

  adminRevokeIntakeKey(id: string): Promise<IntakeKeyInfo> {
    return this.transport.call<IntakeKeyInfo>("admin_revoke_intake_key", { id });
  }

  totpSetup(password: string, code?: string | null): Promise<TotpSecret> {
    return this.transport.call<TotpSecret>("totp_setup", { password, code });
  }

  async totpEnable(code: string): Promise<void> {
    await this.transport.call<null>("totp_enable", { code });
  }
}
