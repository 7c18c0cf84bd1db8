//! Full-text search: Chinese of every length, English, mixed, hostile input.

mod common;

use common::*;
use outpost_core::model::Priority;
use outpost_core::sync::Mutation;
use outpost_store::Store;
use uuid::Uuid;

const TICKETS: &[(&str, &str)] = &[
    ("无法登录 App", "登录时提示错误码 E1023，换了手机也不行"),
    ("账户被冻结", "昨天转账后账户突然被冻结，请尽快处理"),
    ("退款未到账", "申请退款已经三天，钱还没有退回银行卡"),
    (
        "Refund not received",
        "I asked for a refund a week ago, order 88231",
    ),
    ("Cannot log in", "Login fails with error E1023 on Android"),
    ("验证码收不到", "手机收不到短信验证码，无法完成登录验证"),
    (
        "Account frozen after transfer",
        "My account was frozen; 账户冻结了 please help",
    ),
    ("对账不一致", "月末对账发现金额差额 1,024.00 元"),
];

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    for (i, (subject, body)) in TICKETS.iter().enumerate() {
        store
            .apply_local(
                &actor(),
                new_ticket(i as u128, subject, body, "support", Priority::P3),
                now(),
            )
            .unwrap();
    }
    (dir, store)
}

fn found(store: &Store, query: &str) -> Vec<usize> {
    let mut hits: Vec<usize> = store
        .search(query, 50)
        .unwrap()
        .into_iter()
        .map(|h| (h.id.as_u128() - 0x1000) as usize)
        .collect();
    hits.sort_unstable();
    hits
}

/// What a person expects: every term occurs in the ticket, ignoring case.
fn expected(query: &str) -> Vec<usize> {
    let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    TICKETS
        .iter()
        .enumerate()
        .filter(|(_, (s, d))| {
            let text = format!("{s}\n{d}").to_lowercase();
            terms.iter().all(|t| text.contains(t.as_str()))
        })
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn chinese_queries_of_one_two_and_three_characters_are_found() {
    let (_dir, store) = seeded();
    for query in [
        "钱",
        "冻",
        "登录",
        "冻结",
        "退款",
        "账户",
        "未到账",
        "验证码",
        "账户被冻结",
    ] {
        let want = expected(query);
        assert!(!want.is_empty(), "fixture covers {query}");
        assert_eq!(found(&store, query), want, "query {query:?}");
    }
    assert_eq!(found(&store, "冻结 转账"), vec![1], "two-term AND");
    assert!(found(&store, "龙").is_empty());
}

#[test]
fn english_and_mixed_queries() {
    let (_dir, store) = seeded();
    for query in [
        "refund",
        "REFUND",
        "E1023",
        "1023",
        "login",
        "frozen 冻结",
        "App 登录",
        "error android",
    ] {
        assert_eq!(found(&store, query), expected(query), "query {query:?}");
    }
    // No space between scripts still works: "App登录" is two terms.
    assert_eq!(found(&store, "App登录"), vec![0]);
    // Short Latin terms match word prefixes.
    assert_eq!(found(&store, "my"), vec![6]);
}

#[test]
fn hits_carry_character_highlights_over_plain_text() {
    let (_dir, store) = seeded();
    let hit = store
        .search("登录 E1023", 10)
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(hit.subject.text, "无法登录 App");
    assert_eq!(hit.subject.ranges, vec![(2, 4)]);
    let marked: Vec<String> = hit
        .snippet
        .ranges
        .iter()
        .map(|&(a, b)| hit.snippet.text.chars().skip(a).take(b - a).collect())
        .collect();
    assert!(
        marked.contains(&"登录".to_string()) && marked.contains(&"E1023".to_string()),
        "{marked:?}"
    );
}

#[test]
fn query_syntax_and_hostile_input_are_plain_text() {
    let (_dir, store) = seeded();
    for query in [
        "\"",
        "\" OR \"",
        "*",
        "NEAR(a b)",
        "a:b",
        "退款 OR 冻结",
        "'; DROP TABLE tickets; --",
        "^",
        "-",
        "()",
        "<script>alert(1)</script>",
        "\u{0}",
        "𠀀𠀁",
    ] {
        let result = store.search(query, 10);
        assert!(result.is_ok(), "{query:?}: {result:?}");
    }
    assert!(
        found(&store, "退款 OR 冻结").is_empty(),
        "OR is a word, not an operator"
    );
    assert_eq!(store.ticket_count().unwrap(), TICKETS.len() as u64);
}

#[test]
fn edits_and_new_entries_update_the_index() {
    let (_dir, mut store) = seeded();
    let id = ticket_id(3);
    store
        .apply_local(
            &actor(),
            Mutation::SetSubject {
                ticket_id: id,
                subject: "退货 refund".into(),
            },
            now(),
        )
        .unwrap();
    assert!(!found(&store, "received").contains(&3));
    assert!(found(&store, "退货").contains(&3));
    store
        .apply_local(
            &actor(),
            Mutation::AddNote {
                entry_id: Uuid::from_u128(99),
                ticket_id: id,
                text: "已联系财务部 finance".into(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(found(&store, "财务"), vec![3]);
    assert_eq!(found(&store, "finance 退货"), vec![3]);
}
