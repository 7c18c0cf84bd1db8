//! The headless demo behind `make run` (until the desktop app lands): builds a small encrypted
//! demo cache from synthetic data and prints a queue page, two searches and explained SLA clocks.

use std::time::Instant;

use chrono::{DateTime, Utc};
use outpost_core::model::Status;
use outpost_core::Lang;
use outpost_store::{DbKey, Highlighted, QueueFilter, QueueSort, Store};
use outpost_synth::{tickets_with_entries, SynthConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    let cfg = SynthConfig {
        tickets: 5_000,
        entries: 15_000,
        now,
        ..SynthConfig::default()
    };
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo-cache.db");
    let key = DbKey::generate()?;
    let mut store = Store::open(&path, &key)?;

    let started = Instant::now();
    let loaded = store.import_tickets(tickets_with_entries(&cfg), 1_000, now)?;
    println!(
        "Outpost demo: {loaded} synthetic tickets with {} timeline entries loaded in {:.1} s into an \
         SQLCipher cache encrypted with a random key\n  ({}, deleted on exit)\n",
        cfg.entries,
        started.elapsed().as_secs_f64(),
        path.display()
    );

    let filter = QueueFilter {
        statuses: Status::OPEN.to_vec(),
        departments: vec!["support".into()],
        ..QueueFilter::default()
    };
    let started = Instant::now();
    let page = store.queue(&filter, QueueSort::SlaDue, None, 12, now)?;
    let took = started.elapsed();
    println!(
        "Queue — support, open tickets, nearest SLA deadline first ({} of {}, {:.2} ms):",
        page.rows.len(),
        store.count(&filter, now)?,
        took.as_secs_f64() * 1e3
    );
    for row in &page.rows {
        println!(
            "  {:<8} {}  {:>10}  {:<11}  {}  — {}",
            row.key.as_deref().unwrap_or("(new)"),
            row.priority,
            countdown(row.sla_due_at, row.sla_paused, now),
            row.status.as_str(),
            clip(&row.subject, 34),
            row.requester_name
        );
    }

    for query in ["登录", "refund", "冻结 账户"] {
        let started = Instant::now();
        let hits = store.search(query, 4)?;
        println!(
            "\nSearch {query:?} ({:.2} ms):",
            started.elapsed().as_secs_f64() * 1e3
        );
        for hit in hits {
            println!(
                "  {:<8} {}",
                hit.key.as_deref().unwrap_or("(new)"),
                marked(&hit.subject)
            );
            println!("           {}", marked(&hit.snippet));
        }
    }

    if let Some(row) = page.rows.first() {
        let detail = store.ticket(row.id, now)?;
        println!(
            "\nSLA clocks of {} (policy {}):",
            row.key.as_deref().unwrap_or("(new)"),
            detail.sla.policy.as_deref().unwrap_or("none")
        );
        for clock in &detail.sla.clocks {
            println!("  {}", clock.explain(Lang::En));
            println!("  {}", clock.explain(Lang::ZhCn));
        }
    }
    Ok(())
}

/// `mm:ss` under an hour, `h:mm:ss` above, `+` when overdue (the UI's countdown format).
fn countdown(due: Option<DateTime<Utc>>, paused: bool, now: DateTime<Utc>) -> String {
    let Some(due) = due else {
        return if paused {
            "paused".into()
        } else {
            "—".into()
        };
    };
    let secs = (due - now).num_seconds();
    let (sign, secs) = if secs < 0 { ("+", -secs) } else { ("", secs) };
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{m:02}:{s:02}")
    }
}

fn clip(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out
}

/// Highlights shown as 【…】 in a terminal.
fn marked(h: &Highlighted) -> String {
    let chars: Vec<char> = h.text.chars().collect();
    let mut out = String::new();
    let mut at = 0;
    for &(start, end) in &h.ranges {
        out.extend(&chars[at..start]);
        out.push('【');
        out.extend(&chars[start..end]);
        out.push('】');
        at = end;
    }
    out.extend(&chars[at..]);
    out
}
