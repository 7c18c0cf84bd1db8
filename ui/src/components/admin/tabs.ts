// The admin area's tabs, in the order they are shown. To add a screen, append an entry: `id`
// becomes the tab's test id (`admin-tab-<id>`), `label` an i18n key, `load` a lazily imported
// component (it renders inside the admin area, with `useAdmin()` and `useDesk()` available).
import { lazy, type Component } from "solid-js";
import type { Key } from "../../i18n";

export type AdminTab = { id: string; label: Key; component: Component };

export const ADMIN_TABS: AdminTab[] = [
  { id: "organisation", label: "admin.tab.organisation", component: lazy(() => import("./Organisation").then((m) => ({ default: m.OrganisationSettings }))) },
  { id: "users", label: "adminUsers.title", component: lazy(() => import("./Users").then((m) => ({ default: m.UsersScreen }))) },
  { id: "departments", label: "admin.tab.departments", component: lazy(() => import("./Departments").then((m) => ({ default: m.DepartmentsSettings }))) },
  { id: "calendar", label: "admin.tab.calendar", component: lazy(() => import("./BusinessHours").then((m) => ({ default: m.BusinessHours }))) },
  { id: "sla", label: "admin.tab.sla", component: lazy(() => import("./SlaPolicies").then((m) => ({ default: m.SlaPolicies }))) },
  { id: "rules", label: "admin.tab.rules", component: lazy(() => import("./Rules").then((m) => ({ default: m.RulesSettings }))) },
  { id: "catalogue", label: "admin.tab.catalogue", component: lazy(() => import("./Catalogue").then((m) => ({ default: m.CatalogueSettings }))) },
  { id: "verification", label: "admin.tab.verification", component: lazy(() => import("./VerificationPolicy").then((m) => ({ default: m.VerificationSettings }))) },
  { id: "templates", label: "admin.tab.templates", component: lazy(() => import("./Templates").then((m) => ({ default: m.TemplatesSettings }))) },
  { id: "intake-keys", label: "intakeKeys.title", component: lazy(() => import("./IntakeKeys").then((m) => ({ default: m.IntakeKeysScreen }))) },
];
