// The UI's single seam to the Rust side. Nothing outside src/backend imports @tauri-apps.
import type {
  AuditPage,
  AuditQuery,
  ChainCheck,
  VerifyProgress,
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

// Every DTO is generated from Rust by ts-rs into ./types.
export type * from "./types";

/** An error from a command, as the shell reports it: a stable code and a message for people. */
export class BackendError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }

  /** Normalises whatever a rejected call carried into a BackendError. */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (raw && typeof raw === "object" && "code" in raw) {
      const dto = raw as { code: unknown; message?: unknown };
      return new BackendError(String(dto.code), typeof dto.message === "string" ? dto.message : String(dto.code));
    }
    if (raw instanceof Error) return new BackendError("internal", raw.message);
    return new BackendError("internal", typeof raw === "string" ? raw : "Unknown error");
  }
}

export type SignInArgs = {
  server: string;
  email: string;
  password: string;
  totp: string | null;
  passphrase: string | null;
};

export interface Backend {
  appStart(): Promise<StartInfo>;
  signIn(args: SignInArgs): Promise<Me>;
  unlock(passphrase: string | null): Promise<Me>;
  lock(): Promise<void>;
  signOut(discardUnsent: boolean): Promise<void>;
  queue(filter: QueueFilter, sort: QueueSort, cursor: QueueCursor | null, limit: number): Promise<QueuePage>;
  queueCount(filter: QueueFilter): Promise<number>;
  ticket(id: string): Promise<TicketDetail>;
  resolveKey(key: string): Promise<string>;
  search(query: string, limit: number): Promise<SearchHit[]>;
  change(mutation: Mutation): Promise<LocalChange>;
  reply(ticketId: string, text: string): Promise<LocalChange>;
  note(ticketId: string, text: string): Promise<LocalChange>;
  templates(): Promise<Template[]>;
  directory(): Promise<Directory>;
  statusMachine(): Promise<Array<[Status, Status[]]>>;
  conflicts(): Promise<ConflictRecord[]>;
  syncProblems(): Promise<SyncProblem[]>;
  dismiss(record: number): Promise<void>;
  reapply(record: number): Promise<LocalChange>;
  syncStatus(): Promise<SyncStatus>;
  syncNow(): Promise<SyncStatus>;
  /** Tells the shell a start-up milestone was reached (its log marker for the benchmark). */
  startupMark(name: "signin-ready" | "queue-ready"): Promise<void>;
  /** Delivers shell events for the rest of the app's life. */
  subscribe(onEvent: (event: DeskEvent) => void): Promise<void>;
  settingsSet(settings: Settings): Promise<Settings>;
  /** Tells the shell the user is active (resets the idle lock). */
  activity(): Promise<void>;

  // ---- supervisors (agents get `forbidden`) ----------------------------------------------
  /** Reports computed from the local cache; works offline. */
  report(params: ReportParams): Promise<Report>;
  /** One page of the server's audit trail (online only: `offline` otherwise). */
  auditPage(query: AuditQuery): Promise<AuditPage>;
  /** Reads the whole chain from the server and recomputes every hash on this device. */
  auditVerify(onProgress?: (progress: VerifyProgress) => void): Promise<ChainCheck>;
  /** Writes the events the query selects to a new file in the user's Downloads folder. */
  auditExport(query: AuditQuery, format: ExportFormat): Promise<SavedExport>;
  /** Checks an export file's text offline. */
  auditCheckExport(text: string): Promise<ExportCheck>;
  /** Saves page-made content (a report table as CSV) to Downloads under a sanitised name. */
  saveFile(name: string, content: string): Promise<SavedFile>;
  /** Keys of cached tickets by id (no view is recorded); unknown ids are left out. */
  ticketKeys(ids: string[]): Promise<Array<[string, string]>>;
}

let instance: Backend | undefined;

function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** The Tauri backend inside the desktop shell, the in-memory mock anywhere else. */
export async function getBackend(): Promise<Backend> {
  if (!instance) {
    if (inTauri()) {
      const { TauriBackend } = await import("./tauri");
      instance = new TauriBackend();
    } else {
      // The browser preview: `?signin` starts signed out, `?nokeychain` without a keychain,
      // `?as=sam@example.com` signed in as that demo user (Sam is the supervisor).
      const { createMockBackend } = await import("./mock");
      const params = new URLSearchParams(window.location.search);
      instance = createMockBackend({
        signedIn: !params.has("signin"),
        keychain: params.has("nokeychain") ? "missing" : "available",
        user: params.get("as") ?? undefined,
      });
    }
  }
  return instance;
}
