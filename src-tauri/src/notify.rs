//! Desktop notification text, in the language the agent chose (en and zh-CN, like the UI).
//! The ticket's subject is customer text: notification daemons render a subset of markup in
//! the body, so it is escaped.

use outpost_client::app::{Alert, Language};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn label(key: Option<&String>, subject: &str) -> String {
    let subject: String = subject.chars().take(120).collect();
    match key {
        Some(key) => format!("{key} · {}", escape(&subject)),
        None => escape(&subject),
    }
}

/// Title and body of the notification for `alert`.
pub fn text(alert: &Alert, language: Language) -> (String, String) {
    let zh = language == Language::ZhCn;
    match alert {
        Alert::NewP1 { key, subject, .. } => (
            if zh {
                "新的 P1 工单"
            } else {
                "New P1 ticket"
            }
            .to_owned(),
            label(key.as_ref(), subject),
        ),
        Alert::SlaAtRisk { key, subject, .. } => (
            if zh {
                "SLA 即将超时"
            } else {
                "SLA at risk"
            }
            .to_owned(),
            label(key.as_ref(), subject),
        ),
        Alert::SlaBreached { key, subject, .. } => (
            if zh { "SLA 已超时" } else { "SLA breached" }.to_owned(),
            label(key.as_ref(), subject),
        ),
        Alert::Conflict { count } => (
            if zh { "同步冲突" } else { "Sync conflict" }.to_owned(),
            if zh {
                format!("服务器保留了其他值：{count} 处冲突待查看")
            } else {
                format!("The server kept other values: {count} conflict(s) to review")
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn customer_text_is_escaped_and_both_languages_have_text() {
        let alert = Alert::NewP1 {
            ticket_id: Uuid::nil(),
            key: Some("OP-7".into()),
            subject: "<img src=x onerror=alert(1)> & <b>".into(),
        };
        let (title, body) = text(&alert, Language::En);
        assert_eq!(title, "New P1 ticket");
        assert_eq!(
            body,
            "OP-7 · &lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;"
        );
        let (title, _) = text(&alert, Language::ZhCn);
        assert_eq!(title, "新的 P1 工单");
        for alert in [
            Alert::SlaAtRisk {
                ticket_id: Uuid::nil(),
                key: None,
                subject: "s".into(),
                due_at: chrono_now(),
            },
            Alert::SlaBreached {
                ticket_id: Uuid::nil(),
                key: None,
                subject: "s".into(),
            },
            Alert::Conflict { count: 3 },
        ] {
            let (en_title, en_body) = text(&alert, Language::En);
            let (zh_title, zh_body) = text(&alert, Language::ZhCn);
            assert!(!en_title.is_empty() && !en_body.is_empty());
            assert_ne!(en_title, zh_title);
            assert!(!zh_body.is_empty());
        }
    }

    fn chrono_now() -> chrono::DateTime<chrono::Utc> {
        "2026-11-22T08:00:00Z".parse().unwrap()
    }
}
