// The Backend over Tauri's IPC. The methods are generated from the command table
// (commands.gen.ts); this file only carries them: argument keys are camelCase (Tauri maps them
// to the Rust commands' snake_case parameters), and a channel argument is a Tauri `Channel`.
import { Channel, invoke } from "@tauri-apps/api/core";
import { CommandBackend, type CommandName, type Transport } from "./commands.gen";
import { BackendError, rawHeaders } from "./index";

const tauriTransport: Transport = {
  async call<T>(command: CommandName, args: Record<string, unknown>): Promise<T> {
    try {
      return await invoke<T>(command, args);
    } catch (raw) {
      throw BackendError.from(raw);
    }
  },
  stream<T, M>(
    command: CommandName,
    args: Record<string, unknown>,
    channel: string,
    onMessage: (message: M) => void,
  ): Promise<T> {
    const messages = new Channel<M>();
    messages.onmessage = onMessage;
    return this.call<T>(command, { ...args, [channel]: messages });
  },
  async raw<T>(command: CommandName, args: Record<string, string>, body: Uint8Array): Promise<T> {
    try {
      return await invoke<T>(command, body, { headers: rawHeaders(args) });
    } catch (raw) {
      throw BackendError.from(raw);
    }
  },
};

export class TauriBackend extends CommandBackend {
  constructor() {
    super(tauriTransport);
  }
}
