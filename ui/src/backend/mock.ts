// The UI tests' backend: no domain logic, only answers. Defaults are answers a real Desk gave
// on a synthetic cache (./fixtures/desk.json, recorded by crates/outpost-client/tests/
// ui_fixtures.rs), every command can be given other answers per test, and every call is logged
// so tests assert what the UI sent. Whatever needs real rules is proven against the real Desk:
// the Rust tests, the WebDriver suite and the whole-system suites.
import { BackendError } from "./index";
import { CommandBackend, type CommandName, type Transport } from "./commands.gen";
import type { ChainCheck, DeskEvent, ErrorCode, ErrorDto, KeychainState, Me, QueuePage, Settings, TicketDetail } from "./types";
import raw from "./fixtures/desk.json";

type Recorded = { ok: unknown } | { err: ErrorDto };
const FIXTURES = raw as unknown as Record<FixtureName, Recorded>;
export type FixtureName = keyof typeof raw;

/** A recorded answer (a fresh copy each time). Throws when the Desk refused it. */
export function recorded<T>(name: FixtureName): T {
  const r = FIXTURES[name];
  if (!("ok" in r)) throw new Error(`${name} is a recorded refusal: ${r.err.code}`);
  return structuredClone(r.ok) as T;
}

/** A recorded refusal, as the shell reports it. */
export function recordedError(name: FixtureName): BackendError {
  const r = FIXTURES[name];
  if (!("err" in r)) throw new Error(`${name} is a recorded answer, not a refusal`);
  return new BackendError(r.err.code, r.err.message);
}

/** Every recorded ticket detail by id (the first recording of each: before any change). */
export function recordedTickets(): Map<string, TicketDetail> {
  const out = new Map<string, TicketDetail>();
  for (const [name, r] of Object.entries(FIXTURES)) {
    if (!name.startsWith("ticket.") || !("ok" in r)) continue;
    const detail = r.ok as TicketDetail;
    if (!out.has(detail.ticket.id)) out.set(detail.ticket.id, structuredClone(detail));
  }
  return out;
}

export type Call = { cmd: CommandName; args: Record<string, unknown> };

type Args = Record<string, unknown>;
/** Computes an answer from the call's arguments; `send` delivers messages on a streaming call's channel. */
export type Handler = (args: Args, send: (message: unknown) => void) => unknown;
/** A canned answer: a value, a BackendError to throw, or a handler. */
export type Answer = Handler | BackendError | object | string | number | boolean | null;

export type FakeOptions = {
  /** Signed in at start (`app_start` has `me`); true by default. */
  signedIn?: boolean;
  /** Who is signed in: the recorded agent (default) or supervisor. */
  as?: "agent" | "supervisor";
  keychain?: KeychainState;
};

const SETTINGS: Settings = { idle_lock_minutes: 15, theme: "system", language: "en" };

/** The wire under the generated CommandBackend: canned answers in, calls logged. */
class FakeTransport implements Transport {
  readonly calls: Call[] = [];
  readonly answers = new Map<CommandName, Answer[]>();
  readonly listeners: Array<(event: DeskEvent) => void> = [];

  private async answer(cmd: CommandName, args: Args, send: (message: unknown) => void): Promise<unknown> {
    this.calls.push({ cmd, args: structuredClone(args) });
    await Promise.resolve();
    const list = this.answers.get(cmd);
    if (!list || list.length === 0) throw new Error(`FakeBackend: no answer for ${cmd}`);
    const answer = list.length > 1 ? list.shift() : list[0];
    if (answer instanceof BackendError) throw answer;
    const value = typeof answer === "function" ? await (answer as Handler)(args, send) : answer;
    return value === undefined ? null : structuredClone(value);
  }

  call<T>(command: CommandName, args: Args): Promise<T> {
    return this.answer(command, args, () => undefined) as Promise<T>;
  }

  stream<T, M>(command: CommandName, args: Args, _channel: string, onMessage: (message: M) => void): Promise<T> {
    if (command === "subscribe") this.listeners.push(onMessage as (event: DeskEvent) => void);
    return this.answer(command, args, (m) => onMessage(structuredClone(m) as M)) as Promise<T>;
  }

  /** Logged with the bytes as `args.body`. */
  raw<T>(command: CommandName, args: Record<string, string>, body: Uint8Array): Promise<T> {
    return this.answer(command, { ...args, body }, () => undefined) as Promise<T>;
  }
}

/**
 * The generated Backend over a fake wire. Defaults: signed in as the recorded agent, the
 * recorded queue, tickets by id, search hits, reference data; supervisor answers as recorded.
 */
export class FakeBackend extends CommandBackend {
  readonly me: Me;
  private readonly wire: FakeTransport;

  constructor(options: FakeOptions = {}) {
    const wire = new FakeTransport();
    super(wire);
    this.wire = wire;
    this.me = recorded<Me>(options.as === "supervisor" ? "me.supervisor" : "me.agent");
    const signedIn = options.signedIn ?? true;
    const keychain = options.keychain ?? "available";
    const tickets = recordedTickets();
    const rows = recorded<QueuePage>("queue.all").rows;
    const keyOf = new Map(rows.map((r) => [r.id, r.key]));
    const unknownKey = recordedError("resolve_key.unknown");
    this.on("app_start", {
      profile: { server: this.me.server, email: this.me.user.email, mode: keychain === "available" ? "keychain" : "passphrase" },
      me: signedIn ? this.me : null,
      keychain,
      settings: SETTINGS,
    });
    this.on("sign_in", this.me);
    this.on("unlock", this.me);
    for (const cmd of ["lock", "sign_out", "dismiss", "startup_mark", "subscribe", "activity"] as const) this.on(cmd, null);
    this.on("queue", recorded("queue.all"));
    this.on("queue_count", recorded("queue_count.all"));
    this.on("ticket", (args) => {
      const detail = tickets.get(String(args.id));
      if (!detail) throw recordedError("ticket.unknown");
      return detail;
    });
    this.on("resolve_key", (args) => {
      const wanted = String(args.key).trim().toUpperCase();
      const row = rows.find((r) => r.key === wanted);
      if (!row) throw new BackendError(unknownKey.code, unknownKey.message.replace("OP-99999", wanted));
      return row.id;
    });
    this.on("search", recorded("search.hits"));
    this.on("templates", recorded("templates"));
    this.on("directory", recorded("directory"));
    // Recorded for the plain ticket; tests of another ticket's picker set their own answer.
    this.on("assignees", recorded(options.as === "supervisor" ? "assignees.plain.supervisor" : "assignees.plain.agent"));
    this.on("status_machine", recorded("status_machine"));
    this.on("conflicts", []);
    this.on("sync_problems", []);
    this.on("sync_status", recorded("sync_status.offline"));
    this.on("sync_now", recorded("sync_status.offline"));
    this.on("settings_set", (args) => args.settings as object);
    this.on("ticket_keys", (args) => (args.ids as string[]).flatMap((id) => (keyOf.get(id) ? [[id, keyOf.get(id)]] : [])));
    this.on("report", options.as === "supervisor" ? recorded<object>("report.last30") : recordedError("report.agent"));
    this.on("audit_page", options.as === "supervisor" ? recorded<object>("audit_page.first") : recordedError("report.agent"));
    this.on("audit_verify", (_args, send) => {
      const check = recorded<ChainCheck>("audit_verify.ok");
      send({ checked: check.checked, head: check.server_head.last_seq });
      return check;
    });
    this.on("audit_check_export", recorded<object>("audit_check_export.verified"));
    this.on("org_settings", recorded<object>("org_settings"));
    this.on("attachments", []);
  }

  /**
   * Answers for `cmd`, used in order; the last one keeps answering. A BackendError is thrown; a
   * handler is called with the call's arguments.
   */
  on(cmd: CommandName, ...answers: Answer[]): this {
    this.wire.answers.set(cmd, answers);
    return this;
  }

  /** Makes the next call to `cmd` fail with `code`, then answers as before. */
  failNext(cmd: CommandName, code: ErrorCode, message = `Simulated ${code}`): this {
    const list = this.wire.answers.get(cmd) ?? [];
    const rest = list.length > 1 ? list : [...list, ...list];
    this.wire.answers.set(cmd, [new BackendError(code, message), ...rest]);
    return this;
  }

  /** Sends a shell event to every subscriber. */
  emit(event: DeskEvent): void {
    for (const listener of this.wire.listeners) listener(structuredClone(event));
  }

  get calls(): Call[] {
    return this.wire.calls;
  }

  callsTo(cmd: CommandName): Call[] {
    return this.wire.calls.filter((c) => c.cmd === cmd);
  }
}
