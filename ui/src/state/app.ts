import { createContext, useContext, type Accessor } from "solid-js";
import type { Alert, AttachmentProgress, Backend, ChangeNotice, Directory, Me, Settings, Status, SyncStatus, Template } from "../backend";
import { departmentLabel } from "../i18n";

/** What every screen of the signed-in desk shares. */
export type DeskContext = {
  backend: Backend;
  me: Me;
  sync: Accessor<SyncStatus | null>;
  settings: Accessor<Settings>;
  saveSettings: (next: Settings) => Promise<void>;
  directory: Accessor<Directory>;
  templates: Accessor<Template[]>;
  allowedTargets: (status: Status) => Status[];
  /** Runs `fn` on every change notice while the calling component lives. */
  onChanges: (fn: (notice: ChangeNotice) => void) => void;
  /** Runs `fn` on every attachment upload progress event while the calling component lives. */
  onAttachmentProgress: (fn: (progress: AttachmentProgress) => void) => void;
  lock: () => Promise<void>;
  signOut: () => void;
  refreshSync: () => Promise<void>;
  /** In-app copies of the shell's alerts, newest first. */
  alerts: Accessor<Alert[]>;
  dismissAlert: (alert: Alert) => void;
};

export const DeskCtx = createContext<DeskContext>();

export function useDesk(): DeskContext {
  const ctx = useContext(DeskCtx);
  if (!ctx) throw new Error("useDesk outside the desk");
  return ctx;
}

/** A department's display name from the directory; its label when the directory lacks it. */
export function departmentName(directory: Directory, code: string): string {
  return directory.departments.find((d) => d.code === code)?.name ?? departmentLabel(code);
}

/** A user's display name from the directory; the id when unknown. */
export function userName(directory: Directory, id: string | null): string | null {
  if (id === null) return null;
  return directory.users.find((u) => u.id === id)?.name ?? id;
}
