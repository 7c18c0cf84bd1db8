import type { Category, Template, Ticket } from "../backend";

export type TemplateContext = {
  customerName: string;
  ticketKey: string;
  agentName: string;
  ticketSubject: string;
};

const PLACEHOLDER = /\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}/g;

/**
 * Fills `{{customer.name}}`, `{{ticket.key}}`, `{{agent.name}}` and `{{ticket.subject}}`.
 * Unknown placeholders stay as written so the agent sees them before sending. The result is
 * plain text; it is never interpreted as markup.
 */
export function fillTemplate(body: string, ctx: TemplateContext): string {
  const values: Record<string, string> = {
    "customer.name": ctx.customerName,
    "ticket.key": ctx.ticketKey,
    "agent.name": ctx.agentName,
    "ticket.subject": ctx.ticketSubject,
  };
  return body.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

/** Same language when the tags are equal or share the primary subtag (`zh` ≈ `zh-CN`). */
export function sameLanguage(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || x.split("-")[0] === y.split("-")[0];
}

/**
 * Templates in the ticket's language, those made for its category first, then general ones,
 * then the rest; by name within each group.
 */
export function templatesFor(templates: Template[], language: string, category: Category): Template[] {
  const rank = (t: Template) => (t.categories.includes(category) ? 0 : t.categories.length === 0 ? 1 : 2);
  return templates
    .filter((t) => sameLanguage(t.language, language))
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

export function contextFor(ticket: Ticket, agentName: string): TemplateContext {
  return {
    customerName: ticket.requester.name,
    ticketKey: ticket.key ?? "",
    agentName,
    ticketSubject: ticket.subject,
  };
}
