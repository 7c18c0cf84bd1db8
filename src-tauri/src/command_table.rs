// The app's commands, each declared once. `for_each_command!(callback)` hands the whole table to
// `callback!`, and each reader makes what it needs of it:
//
// - build.rs: the names for the AppManifest (each gets an `allow-…` permission);
// - the desktop binary (main.rs): a `#[tauri::command]` per entry and the `generate_handler!` list;
// - the library (commands.rs): the name list, and, with the `dev-bridge` feature, a dispatcher
//   the development bridge serves over loopback HTTP; with the `ts` feature, what the TypeScript
//   generator needs (tests/commands.rs writes ui/src/backend/commands.gen.ts and
//   capabilities/main.json from it, and fails when the checked-in files drift).
//
// An entry reads like a function: `shell` is the app's `Shell` (a `tauri::State` in the desktop,
// a reference in the bridge); the arguments arrive from the page as camelCase JSON keys; the body
// returns `Result<T, ErrorDto>`. An argument written `@name: T` is a channel the command sends
// `T` messages on (a Tauri `Channel` in the desktop, a stream in the bridge), always last.
// An argument written `#name` (after the others) is the call's raw body, the bytes of a file
// (Tauri 2's `InvokeBody::Raw`, `Vec<u8>` in the body): such a command takes its other
// arguments from `x-outpost-<kebab-name>` headers, percent-encoded, instead of a JSON object.
// `#[ts(…)]` after the doc comment is a hint for the TypeScript method: `object = Name` takes the
// arguments as one object of that type, `optional = name` makes that argument optional.
//
// Every name and type in a body must be in scope where the table is expanded: the expansions
// import `crate::commands::prelude::*` (or `outpost_desktop::commands::prelude::*`).
//
// This file is also `include!`d by build.rs, which cannot see those types: it only reads names.

/// The app's commands (see the comment at the top of `command_table.rs`).
#[macro_export]
macro_rules! for_each_command {
    ($callback:ident) => {
        $callback! {
            /// The picture at start-up: profiles, keychain, whether a session is open. Waits for
            /// the start-up sign-in, if any.
            fn app_start(shell) -> StartInfo {
                shell.start_info().await.map_err(dto)
            }

            /// Signs in to a server; opens (or creates) the profile's encrypted cache.
            #[ts(object = SignInArgs)]
            fn sign_in(
                shell,
                server: String,
                email: String,
                password: String,
                totp: Option<String>,
                passphrase: Option<String>
            ) -> Me {
                shell
                    .sign_in(&server, &email, &password, totp.as_deref(), unlock_with(passphrase))
                    .await
                    .map_err(dto)
            }

            /// Opens the last profile's cache again (keychain, or the passphrase given).
            fn unlock(shell, passphrase: Option<String>) -> Me {
                shell.unlock(unlock_with(passphrase)).await.map_err(dto)
            }

            /// Closes the cache and stops syncing; the session stays signed in.
            fn lock(shell) -> () {
                shell.lock().await;
                Ok(())
            }

            /// Signs out; refuses while changes are unsent unless `discard_unsent`.
            fn sign_out(shell, discard_unsent: bool) -> () {
                shell.sign_out(discard_unsent).await.map_err(dto)
            }

            /// Tells the shell the user is active (resets the idle lock).
            fn activity(shell) -> () {
                shell.touch();
                Ok(())
            }

            /// Saves the user's settings and answers what was saved.
            fn settings_set(shell, settings: Settings) -> Settings {
                shell.save_settings(settings)
            }

            /// Delivers shell events for the rest of the app's life.
            fn subscribe(shell, @on_event: DeskEvent) -> () {
                shell.subscribe(on_event);
                Ok(())
            }

            /// One page of the queue (at most `MAX_PAGE` rows).
            fn queue(
                shell,
                filter: QueueFilter,
                sort: QueueSort,
                cursor: Option<QueueCursor>,
                limit: u32
            ) -> QueuePage {
                shell
                    .desk
                    .queue(filter, sort, cursor, limit.clamp(1, MAX_PAGE))
                    .await
                    .map_err(dto)
            }

            /// How many tickets the filter selects.
            fn queue_count(shell, filter: QueueFilter) -> u64 {
                shell.desk.queue_count(filter).await.map_err(dto)
            }

            /// A ticket with its timeline (records that this user viewed it).
            fn ticket(shell, id: TicketId) -> TicketDetail {
                shell.desk.ticket(id).await.map_err(dto)
            }

            /// The id of the ticket with this human key (`OP-123`).
            fn resolve_key(shell, key: String) -> TicketId {
                shell.desk.resolve(&key).await.map_err(dto)
            }

            /// Full-text search over the cache (at most `MAX_HITS` hits).
            fn search(shell, query: String, limit: u32) -> Vec<SearchHit> {
                shell
                    .desk
                    .search(query, limit.clamp(1, MAX_HITS))
                    .await
                    .map_err(dto)
            }

            /// Applies a change locally and queues it for the server.
            fn change(shell, mutation: Mutation) -> LocalChange {
                shell.desk.change(mutation).await.map_err(dto)
            }

            /// A reply to the customer.
            fn reply(shell, ticket_id: TicketId, text: String) -> LocalChange {
                shell.desk.reply(ticket_id, text).await.map_err(dto)
            }

            /// An internal note.
            fn note(shell, ticket_id: TicketId, text: String) -> LocalChange {
                shell.desk.note(ticket_id, text).await.map_err(dto)
            }

            /// The organisation's reply templates.
            fn templates(shell) -> Vec<Template> {
                shell.desk.templates().await.map_err(dto)
            }

            /// Users and departments, for names and pickers.
            fn directory(shell) -> Directory {
                shell.desk.directory().await.map_err(dto)
            }

            /// Everyone the assignee picker offers for a ticket, with whether the signed-in
            /// user may hand it to them (the core's rule, as the server applies it).
            fn assignees(shell, ticket_id: TicketId) -> Vec<AssigneeOption> {
                shell.desk.assignees(ticket_id).await.map_err(dto)
            }

            /// Every status with the statuses it may move to.
            fn status_machine(shell) -> Vec<(Status, Vec<Status>)> {
                Ok(Desk::status_machine())
            }

            /// Changes the server decided differently.
            fn conflicts(shell) -> Vec<ConflictRecord> {
                shell.desk.conflicts().await.map_err(dto)
            }

            /// Changes the server refused.
            fn sync_problems(shell) -> Vec<SyncProblem> {
                shell.desk.sync_problems().await.map_err(dto)
            }

            /// Dismisses a conflict or sync problem record.
            fn dismiss(shell, record: i64) -> () {
                shell.desk.dismiss(record).await.map_err(dto)
            }

            /// Applies a refused change again, as a new change.
            fn reapply(shell, record: i64) -> LocalChange {
                shell.desk.reapply(record).await.map_err(dto)
            }

            /// Connectivity, unsent changes, last sync.
            fn sync_status(shell) -> SyncStatus {
                shell.desk.sync_status().await.map_err(dto)
            }

            /// Syncs now and answers the status after it.
            fn sync_now(shell) -> SyncStatus {
                shell.desk.sync_now().await.map_err(dto)
            }

            /// Tells the shell a start-up milestone was reached (its log marker for the
            /// benchmark).
            fn startup_mark(shell, name: StartupMark) -> () {
                log_startup_mark(name);
                Ok(())
            }

            /// Reports computed from the local cache; works offline. Supervisors only.
            fn report(shell, params: ReportParams) -> Report {
                shell.desk.report(params).await.map_err(dto)
            }

            /// One page of the server's audit trail (online only: `offline` otherwise).
            fn audit_page(shell, query: AuditQuery) -> AuditPage {
                shell.desk.audit_page(query).await.map_err(dto)
            }

            /// Reads the whole chain from the server and recomputes every hash on this device,
            /// reporting progress after each page.
            #[ts(optional = on_progress)]
            fn audit_verify(shell, @on_progress: VerifyProgress) -> ChainCheck {
                shell
                    .desk
                    .audit_verify_with(|p| {
                        on_progress.send(p);
                    })
                    .await
                    .map_err(dto)
            }

            /// Writes the events the query selects to a new file in the user's Downloads folder.
            fn audit_export(shell, query: AuditQuery, format: ExportFormat) -> SavedExport {
                shell.desk.audit_export(query, format).await.map_err(dto)
            }

            /// Checks an export file's text offline (the page reads the file; Rust never opens
            /// paths the page names).
            fn audit_check_export(shell, text: String) -> ExportCheck {
                check_size(&text)?;
                Ok(check_export(&text, None))
            }

            /// Saves page-made content (a report table as CSV) to Downloads under a sanitised
            /// name.
            fn save_file(shell, name: String, content: String) -> SavedFile {
                check_size(&content)?;
                shell
                    .desk
                    .save_file(&name, content.as_bytes())
                    .await
                    .map_err(dto)
            }

            /// Keys of cached tickets by id (no view is recorded); unknown ids are left out.
            fn ticket_keys(shell, ids: Vec<TicketId>) -> Vec<(TicketId, String)> {
                check_key_lookups(&ids)?;
                shell.desk.ticket_keys(ids).await.map_err(dto)
            }

            /// The organisation's settings, departments and templates as this device sees them
            /// (with this admin's queued edits); works offline.
            fn org_settings(shell) -> OrgSettingsView {
                shell.desk.org_settings().await.map_err(dto)
            }

            /// Replaces a settings document made on `base_version` (queued like any change).
            /// Admins only.
            fn change_settings(shell, base_version: u64, settings: SettingsDoc) -> OrgSettingsView {
                shell
                    .desk
                    .change_settings(base_version, settings)
                    .await
                    .map_err(dto)
            }

            /// Adds, renames, retires or restores a department (queued). Admins only.
            fn put_department(shell, department: Department) -> OrgSettingsView {
                shell.desk.put_department(department).await.map_err(dto)
            }

            /// Adds, edits, retires or restores a template or macro (queued). Admins only.
            fn put_template(shell, template: Template) -> OrgSettingsView {
                shell.desk.put_template(template).await.map_err(dto)
            }

            /// What the given rules make of a text (the rules screen's "try it"). Admins only.
            fn preview_rules(
                shell,
                rules: RuleSet,
                subject: String,
                description: String
            ) -> Classification {
                check_size(&subject)?;
                check_size(&description)?;
                shell
                    .desk
                    .preview_rules(rules, subject, description)
                    .await
                    .map_err(dto)
            }

            /// How many open tickets' deadlines the given SLA settings would move. Admins only.
            fn calendar_effect(shell, sla: SlaSettings) -> CalendarEffect {
                shell.desk.calendar_effect(sla).await.map_err(dto)
            }

            /// Each day of a month under the given calendar (the one being edited): its hours,
            /// and the holiday or special period that set them. Admins only.
            fn calendar_month(
                shell,
                calendar: BusinessCalendar,
                year: i32,
                month: u32
            ) -> Vec<MonthDay> {
                shell
                    .desk
                    .calendar_month(calendar, year, month)
                    .await
                    .map_err(dto)
            }

            /// Attaches a file to a ticket. The file's bytes are the call's raw body; its type is
            /// decided from them (never from the name), then it waits in the outbox with its
            /// bytes in the encrypted cache and uploads when the network allows.
            fn attach_file(shell, ticket_id: TicketId, filename: String, #data) -> AttachmentView {
                shell
                    .desk
                    .attach_file(ticket_id, &filename, data)
                    .await
                    .map_err(dto)
            }

            /// A ticket's attachments with where their bytes are.
            fn attachments(shell, ticket_id: TicketId) -> Vec<AttachmentView> {
                shell.desk.attachments(ticket_id).await.map_err(dto)
            }

            /// Withdraws an attachment that has not reached the server yet.
            fn cancel_attachment(shell, ticket_id: TicketId, attachment_id: uuid::Uuid) -> () {
                shell
                    .desk
                    .cancel_attachment(ticket_id, attachment_id)
                    .await
                    .map_err(dto)
            }

            /// Downloads an attachment into the cache now (online only).
            fn fetch_attachment(
                shell,
                ticket_id: TicketId,
                attachment_id: uuid::Uuid
            ) -> AttachmentView {
                shell
                    .desk
                    .fetch_attachment(ticket_id, attachment_id)
                    .await
                    .map_err(dto)
            }

            /// Asks where to save an attachment (the system's save dialog, shown by the shell)
            /// and writes it there; `null` when the user cancelled. Nothing is opened or run.
            fn save_attachment(
                shell,
                ticket_id: TicketId,
                attachment_id: uuid::Uuid
            ) -> Option<SavedFile> {
                let (view, data) = shell
                    .desk
                    .attachment_bytes(ticket_id, attachment_id)
                    .await
                    .map_err(dto)?;
                shell.save_as(&view.filename, data).await.map_err(dto)
            }

            /// An image attachment decoded here and re-encoded as PNG, scaled to fit 1600 × 1600
            /// (JPEG, PNG, GIF and WebP only).
            fn preview_attachment(
                shell,
                ticket_id: TicketId,
                attachment_id: uuid::Uuid
            ) -> ImagePreview {
                let (view, data) = shell
                    .desk
                    .attachment_bytes(ticket_id, attachment_id)
                    .await
                    .map_err(dto)?;
                preview_image(view.filename, data).await
            }

            /// Everyone with their second factor's state, never the secret (online only).
            fn admin_users(shell) -> Vec<AdminUser> {
                shell.desk.admin_users().await.map_err(dto)
            }

            /// Adds a user with a one-time password or an invitation link (online only).
            fn admin_add_user(shell, user: NewUser) -> AddedUser {
                shell.desk.admin_add_user(user).await.map_err(dto)
            }

            /// Changes a user's name, role, departments, skills or away status (online only).
            fn admin_update_user(shell, id: UserId, patch: UserPatch) -> User {
                shell.desk.admin_update_user(id, patch).await.map_err(dto)
            }

            /// Lets a disabled user sign in again (online only).
            fn admin_enable_user(shell, id: UserId) -> User {
                shell.desk.admin_enable_user(id).await.map_err(dto)
            }

            /// Disables a user and ends their sessions (online only).
            fn admin_disable_user(shell, id: UserId) -> () {
                shell.desk.admin_disable_user(id).await.map_err(dto)
            }

            /// A new one-time password or invitation link for a user (online only).
            fn admin_reset_password(shell, id: UserId, invite: InviteKind) -> Credentials {
                shell.desk.admin_reset_password(id, invite).await.map_err(dto)
            }

            /// Removes a user's second factor (online only).
            fn admin_reset_totp(shell, id: UserId) -> User {
                shell.desk.admin_reset_totp(id).await.map_err(dto)
            }

            /// Every intake key, revoked ones included (online only).
            fn admin_intake_keys(shell) -> Vec<IntakeKeyInfo> {
                shell.desk.admin_intake_keys().await.map_err(dto)
            }

            /// A new intake key, shown this once (online only).
            fn admin_add_intake_key(shell, name: String) -> CreatedIntakeKey {
                shell.desk.admin_add_intake_key(name).await.map_err(dto)
            }

            /// Revokes an intake key (online only).
            fn admin_revoke_intake_key(shell, id: uuid::Uuid) -> IntakeKeyInfo {
                shell.desk.admin_revoke_intake_key(id).await.map_err(dto)
            }

            /// Starts enrolling an authenticator for the signed-in user: the password (and a
            /// current code when one is enabled already) for a new secret (online only).
            #[ts(optional = code)]
            fn totp_setup(shell, password: String, code: Option<String>) -> TotpSecret {
                shell.desk.totp_setup(password, code).await.map_err(dto)
            }

            /// Enables the authenticator being enrolled with a code from it; a session the
            /// organisation limited to enrolling becomes a full one (online only).
            fn totp_enable(shell, code: String) -> () {
                shell.desk.totp_enable(code).await.map_err(dto)
            }
        }
    };
}
