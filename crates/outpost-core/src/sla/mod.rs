//! SLA engine: business calendars, policies and the clocks they drive.
//!
//! Clocks are computed, never stored: [`SlaSettings::evaluate`] derives every clock of a ticket
//! from the ticket's timestamps, its pause spans, the settings and a `now` passed in. So the
//! client (offline), the server and reports always agree, and each clock can explain itself
//! from the same figures it reports.
//!
//! - [`calendar`]: when a team is open, and how much open time lies between two instants.
//! - [`policy`]: which targets apply to a ticket.
//! - [`clock`]: where each clock stands, and the explanation in English or Chinese.

pub mod calendar;
pub mod clock;
pub mod policy;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;

pub use crate::Lang;
pub use calendar::{
    BusinessCalendar, CalendarAdjustment, CalendarError, Holiday, OpenInterval, SpecialPeriod,
    WeeklyHours, MINUTES_PER_DAY,
};
pub use clock::{ClockCalendar, ClockState, Deadline, SlaClock, SlaReport};
pub use policy::{ClockKind, SettingsError, SlaPolicy, SlaSettings};
