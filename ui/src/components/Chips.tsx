import type { Priority, RiskLevel, Status } from "../backend";
import { t } from "../i18n";

/** Priority as a chip with text; colour is never the only signal (UI.md). */
export function PriorityChip(props: { priority: Priority }) {
  return (
    <span class="chip priority" data-priority={props.priority} title={t(`priority.${props.priority}`)}>
      {props.priority}
    </span>
  );
}

export function StatusChip(props: { status: Status; testid?: string }) {
  return (
    <span class="chip status" data-status={props.status} data-testid={props.testid}>
      {t(`status.${props.status}`)}
    </span>
  );
}

export function RiskChip(props: { risk: RiskLevel }) {
  return (
    <span class="chip risk" data-risk={props.risk} title={t(`risk.${props.risk}`)}>
      {props.risk === "none" ? t("risk.none") : props.risk}
    </span>
  );
}
