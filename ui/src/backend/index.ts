// The UI's single seam to the Rust side. Nothing outside src/backend imports @tauri-apps.
import type { Backend } from "./commands.gen";
import type { ErrorCode } from "./types";

// Every DTO is generated from Rust by ts-rs into ./types.
export type * from "./types";

/** An error from a command, as the shell reports it: a stable code and a message for people. */
export class BackendError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "BackendError";
    this.code = code;
  }

  /** Normalises whatever a rejected call carried into a BackendError. */
  static from(raw: unknown): BackendError {
    if (raw instanceof BackendError) return raw;
    if (raw && typeof raw === "object" && "code" in raw) {
      // The shell's `ErrorDto`: its code is one of the generated union's.
      const dto = raw as { code: unknown; message?: unknown };
      const code = String(dto.code) as ErrorCode;
      return new BackendError(code, typeof dto.message === "string" ? dto.message : code);
    }
    if (raw instanceof Error) return new BackendError("internal", raw.message);
    return new BackendError("internal", typeof raw === "string" ? raw : "Unknown error");
  }
}

/**
 * The headers a raw-body call's other arguments travel in (the command table's convention):
 * `ticketId` → `x-outpost-ticket-id`, the value percent-encoded (a header carries no raw UTF-8).
 */
export function rawHeaders(args: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) {
    out[`x-outpost-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = encodeURIComponent(value);
  }
  return out;
}

// The commands' interface is generated from the Rust command table (commands.gen.ts).
export type { Backend, SignInArgs, StartupMark } from "./commands.gen";

let instance: Backend | undefined;

function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/**
 * The Tauri backend inside the desktop shell; anywhere else (the browser preview, `make dev`)
 * the development bridge, a real Desk behind vite's `/cmd` proxy. Unit tests build their own.
 */
export async function getBackend(): Promise<Backend> {
  if (!instance) {
    if (inTauri()) {
      const { TauriBackend } = await import("./tauri");
      instance = new TauriBackend();
    } else {
      const { HttpBackend } = await import("./http");
      instance = new HttpBackend();
    }
  }
  return instance;
}
