// The Backend over Tauri commands. Argument keys are camelCase; Tauri maps them to the Rust
// commands' snake_case parameters.
import { Channel, invoke } from "@tauri-apps/api/core";
import { BackendError, type Backend, type SignInArgs } from "./index";
import type {
  VerifyProgress,
  AuditPage,
  AuditQuery,
  ChainCheck,
  ConflictRecord,
  DeskEvent,
  Directory,
  ExportCheck,
  ExportFormat,
  LocalChange,
  Me,
  Mutation,
  QueueCursor,
  QueueFilter,
  QueuePage,
  QueueSort,
  Report,
  ReportParams,
  SavedExport,
  SavedFile,
  SearchHit,
  Settings,
  StartInfo,
  Status,
  SyncProblem,
  SyncStatus,
  Template,
  TicketDetail,
} from "./types";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (raw) {
    throw BackendError.from(raw);
  }
}

export class TauriBackend implements Backend {
  appStart() {
    return call<StartInfo>("app_start");
  }
  signIn(args: SignInArgs) {
    return call<Me>("sign_in", { ...args });
  }
  unlock(passphrase: string | null) {
    return call<Me>("unlock", { passphrase });
  }
  async lock() {
    await call<null>("lock");
  }
  async signOut(discardUnsent: boolean) {
    await call<null>("sign_out", { discardUnsent });
  }
  queue(filter: QueueFilter, sort: QueueSort, cursor: QueueCursor | null, limit: number) {
    return call<QueuePage>("queue", { filter, sort, cursor, limit });
  }
  queueCount(filter: QueueFilter) {
    return call<number>("queue_count", { filter });
  }
  ticket(id: string) {
    return call<TicketDetail>("ticket", { id });
  }
  resolveKey(key: string) {
    return call<string>("resolve_key", { key });
  }
  search(query: string, limit: number) {
    return call<SearchHit[]>("search", { query, limit });
  }
  change(mutation: Mutation) {
    return call<LocalChange>("change", { mutation });
  }
  reply(ticketId: string, text: string) {
    return call<LocalChange>("reply", { ticketId, text });
  }
  note(ticketId: string, text: string) {
    return call<LocalChange>("note", { ticketId, text });
  }
  templates() {
    return call<Template[]>("templates");
  }
  directory() {
    return call<Directory>("directory");
  }
  statusMachine() {
    return call<Array<[Status, Status[]]>>("status_machine");
  }
  conflicts() {
    return call<ConflictRecord[]>("conflicts");
  }
  syncProblems() {
    return call<SyncProblem[]>("sync_problems");
  }
  async dismiss(record: number) {
    await call<null>("dismiss", { record });
  }
  reapply(record: number) {
    return call<LocalChange>("reapply", { record });
  }
  syncStatus() {
    return call<SyncStatus>("sync_status");
  }
  startupMark(name: "signin-ready" | "queue-ready") {
    return call<void>("startup_mark", { name });
  }
  syncNow() {
    return call<SyncStatus>("sync_now");
  }
  async subscribe(onEvent: (event: DeskEvent) => void) {
    const channel = new Channel<DeskEvent>();
    channel.onmessage = onEvent;
    await call<null>("subscribe", { onEvent: channel });
  }
  settingsSet(settings: Settings) {
    return call<Settings>("settings_set", { settings });
  }
  async activity() {
    await call<null>("activity");
  }
  report(params: ReportParams) {
    return call<Report>("report", { params });
  }
  auditPage(query: AuditQuery) {
    return call<AuditPage>("audit_page", { query });
  }
  auditVerify(onProgress?: (progress: VerifyProgress) => void) {
    const channel = new Channel<VerifyProgress>();
    if (onProgress) channel.onmessage = onProgress;
    return call<ChainCheck>("audit_verify", { onProgress: channel });
  }
  auditExport(query: AuditQuery, format: ExportFormat) {
    return call<SavedExport>("audit_export", { query, format });
  }
  auditCheckExport(text: string) {
    return call<ExportCheck>("audit_check_export", { text });
  }
  ticketKeys(ids: string[]) {
    return call<Array<[string, string]>>("ticket_keys", { ids });
  }
  saveFile(name: string, content: string) {
    return call<SavedFile>("save_file", { name, content });
  }
}
