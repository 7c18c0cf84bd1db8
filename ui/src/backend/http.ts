// The Backend over the development bridge (`make dev`): the browser preview posts each command
// to `/cmd/<name>` (vite proxies it to outpost-dev-bridge on loopback, so the page stays
// same-origin) with the JSON arguments the Tauri command takes. A command with a channel answers
// JSON lines: `{"message": …}` per channel message, then `{"ok": …}` or `{"error": …}`, then
// more messages while the channel lives (`subscribe`). A command taking bytes (`attach_file`)
// posts them as the body, its other arguments in `x-outpost-…` headers.
import { CommandBackend, type CommandName, type Transport } from "./commands.gen";
import { BackendError, rawHeaders } from "./index";

function post(command: CommandName, args: Record<string, unknown>): Promise<Response> {
  return fetch(`/cmd/${command}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
  }).catch((raw: unknown) => {
    throw new BackendError("offline", `the development bridge is not reachable: ${String(raw)}`);
  });
}

async function failure(response: Response): Promise<BackendError> {
  const text = await response.text();
  try {
    return BackendError.from(JSON.parse(text));
  } catch {
    return new BackendError("internal", text || `HTTP ${response.status}`);
  }
}

type Line<T, M> = { message: M } | { ok: T } | { error: unknown };

/** Reads JSON lines from a response body, one call per line, until the body ends. */
async function readLines(body: ReadableStream<Uint8Array>, onLine: (line: unknown) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    buffered += decoder.decode(value, { stream: !done });
    let end: number;
    while ((end = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      if (line) onLine(JSON.parse(line));
    }
    if (done) return;
  }
}

const httpTransport: Transport = {
  async call<T>(command: CommandName, args: Record<string, unknown>): Promise<T> {
    const response = await post(command, args);
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  },
  async stream<T, M>(
    command: CommandName,
    args: Record<string, unknown>,
    _channel: string,
    onMessage: (message: M) => void,
  ): Promise<T> {
    const response = await post(command, args);
    if (!response.ok) throw await failure(response);
    const body = response.body;
    if (!body) throw new BackendError("internal", `${command}: the bridge answered no stream`);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      readLines(body, (raw) => {
        const line = raw as Line<T, M>;
        if ("message" in line) onMessage(line.message);
        else if ("ok" in line) {
          settled = true;
          resolve(line.ok);
        } else if ("error" in line) {
          settled = true;
          reject(BackendError.from(line.error));
        }
      })
        .then(() => {
          if (!settled) reject(new BackendError("internal", `${command}: the bridge closed the stream`));
        })
        .catch((raw: unknown) => {
          if (!settled) reject(BackendError.from(raw));
        });
    });
  },
  async raw<T>(command: CommandName, args: Record<string, string>, body: Uint8Array): Promise<T> {
    const response = await fetch(`/cmd/${command}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", ...rawHeaders(args) },
      body: body as Uint8Array<ArrayBuffer>,
    }).catch((raw: unknown) => {
      throw new BackendError("offline", `the development bridge is not reachable: ${String(raw)}`);
    });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  },
};

export class HttpBackend extends CommandBackend {
  constructor() {
    super(httpTransport);
  }
}
