//! What a party holds: tickets and their timelines, comparable across the server and caches.

use std::collections::{BTreeMap, BTreeSet};

use outpost_core::model::{Entry, EntryBody, EntryId, Ticket, TicketId};

#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub tickets: BTreeMap<TicketId, Ticket>,
    /// Each ticket's timeline by entry id.
    pub entries: BTreeMap<TicketId, BTreeMap<EntryId, Entry>>,
}

/// The free text of a reply or note.
pub fn text_of(entry: &Entry) -> Option<&str> {
    match &entry.body {
        EntryBody::Reply { text } | EntryBody::Note { text } => Some(text),
        _ => None,
    }
}

impl Snapshot {
    pub fn ids(&self) -> BTreeSet<TicketId> {
        self.tickets.keys().copied().collect()
    }

    pub fn all_entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values().flat_map(|m| m.values())
    }

    pub fn entry(&self, id: EntryId) -> Option<&Entry> {
        self.all_entries().find(|e| e.id == id)
    }

    /// How often each reply or note text occurs (duplicates under different ids count twice).
    pub fn text_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for text in self.all_entries().filter_map(text_of) {
            *counts.entry(text.to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// Only these tickets.
    pub fn only(&self, ids: &BTreeSet<TicketId>) -> Snapshot {
        Snapshot {
            tickets: self
                .tickets
                .iter()
                .filter(|(id, _)| ids.contains(id))
                .map(|(id, t)| (*id, t.clone()))
                .collect(),
            entries: self
                .entries
                .iter()
                .filter(|(id, _)| ids.contains(id))
                .map(|(id, e)| (*id, e.clone()))
                .collect(),
        }
    }

    /// Panics, naming the first differences, unless both hold exactly the same tickets and
    /// timelines.
    pub fn assert_same(&self, other: &Snapshot, what: &str) {
        let (mine, theirs) = (self.ids(), other.ids());
        assert_eq!(
            mine.len(),
            theirs.len(),
            "{what}: {} tickets vs {}; only left: {:?}; only right: {:?}",
            mine.len(),
            theirs.len(),
            mine.difference(&theirs).take(5).collect::<Vec<_>>(),
            theirs.difference(&mine).take(5).collect::<Vec<_>>()
        );
        assert_eq!(mine, theirs, "{what}: different ticket ids");
        let mut problems = Vec::new();
        for (id, ticket) in &self.tickets {
            let other_ticket = &other.tickets[id];
            if ticket != other_ticket {
                problems.push(format!(
                    "ticket {id} differs:\n  left:  {}\n  right: {}",
                    serde_json::to_string(ticket).unwrap_or_default(),
                    serde_json::to_string(other_ticket).unwrap_or_default()
                ));
            }
            let empty = BTreeMap::new();
            let left = self.entries.get(id).unwrap_or(&empty);
            let right = other.entries.get(id).unwrap_or(&empty);
            if left != right {
                let only_left: Vec<&Entry> = left
                    .iter()
                    .filter(|(eid, e)| right.get(eid) != Some(e))
                    .map(|(_, e)| e)
                    .collect();
                let only_right: Vec<&Entry> = right
                    .iter()
                    .filter(|(eid, e)| left.get(eid) != Some(e))
                    .map(|(_, e)| e)
                    .collect();
                problems.push(format!(
                    "timeline of {id} differs ({} vs {} entries):\n  only left:  {}\n  only right: {}",
                    left.len(),
                    right.len(),
                    serde_json::to_string(&only_left.iter().take(3).collect::<Vec<_>>())
                        .unwrap_or_default(),
                    serde_json::to_string(&only_right.iter().take(3).collect::<Vec<_>>())
                        .unwrap_or_default()
                ));
            }
            if problems.len() >= 5 {
                break;
            }
        }
        assert!(
            problems.is_empty(),
            "{what}: {} difference(s), first ones:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}
