use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::sla::BusinessCalendar;

fn departments() -> Vec<Department> {
    ["support", "finance"]
        .iter()
        .map(|c| Department {
            code: (*c).into(),
            name: c.to_uppercase(),
            active: true,
        })
        .collect()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()
}

fn lisbon_sla() -> SlaSettings {
    let mut sla = SlaSettings::defaults();
    sla.calendar = BusinessCalendar::weekdays(
        "Mon–Fri 09:00–18:00",
        chrono_tz::Europe::Lisbon,
        chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    );
    sla
}

fn set(base_version: u64, settings: SettingsDoc) -> Mutation {
    Mutation::SetSettings {
        base_version,
        settings,
    }
}

fn run(
    settings: &OrgSettings,
    mutation: &Mutation,
    role: Option<Role>,
) -> Result<AdminApplied, Rejection> {
    let departments = departments();
    let facts = AdminFacts {
        settings,
        departments: &departments,
        templates: &[],
    };
    apply_admin(&facts, mutation, Some(Uuid::from_u128(7)), role, now())
}

#[test]
fn an_admin_change_bumps_the_version_and_records_before_and_after() {
    let settings = OrgSettings::defaults();
    let applied = run(
        &settings,
        &set(0, SettingsDoc::Sla(lisbon_sla())),
        Some(Role::Admin),
    )
    .unwrap();
    let AdminChange::Settings(next) = &applied.change else {
        panic!("a settings change")
    };
    assert_eq!(next.version, 1);
    assert_eq!(next.updated_by, Some(Uuid::from_u128(7)));
    assert_eq!(next.updated_at, Some(now()));
    assert_eq!(
        applied.before.unwrap()["doc"]["calendar"]["tz"],
        "Asia/Shanghai"
    );
    assert_eq!(applied.after["doc"]["calendar"]["tz"], "Europe/Lisbon");
    let mut after = settings.clone();
    after.put(next.clone());
    assert_eq!(after.sla_settings().calendar.tz, chrono_tz::Europe::Lisbon);
}

#[test]
fn agents_and_supervisors_are_refused() {
    let settings = OrgSettings::defaults();
    for role in [Role::Agent, Role::Supervisor] {
        let refused = run(
            &settings,
            &set(0, SettingsDoc::Sla(lisbon_sla())),
            Some(role),
        );
        assert!(matches!(refused, Err(Rejection::Forbidden(_))), "{role:?}");
        let department = Mutation::PutDepartment(Department {
            code: "billing".into(),
            name: "Billing".into(),
            active: true,
        });
        assert!(matches!(
            run(&settings, &department, Some(role)),
            Err(Rejection::Forbidden(_))
        ));
    }
    assert!(run(&settings, &set(0, SettingsDoc::Sla(lisbon_sla())), None).is_ok());
}

#[test]
fn an_edit_made_on_an_old_version_is_refused_with_a_reason() {
    let mut settings = OrgSettings::defaults();
    let applied = run(
        &settings,
        &set(0, SettingsDoc::Sla(lisbon_sla())),
        Some(Role::Admin),
    )
    .unwrap();
    let AdminChange::Settings(next) = applied.change else {
        panic!()
    };
    settings.put(next);
    let stale = run(
        &settings,
        &set(0, SettingsDoc::Sla(SlaSettings::defaults())),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert_eq!(stale.code(), crate::error::ErrorCode::Conflict);
    assert!(stale.to_string().contains("version 1"), "{stale}");
}

#[test]
fn invalid_documents_name_what_is_wrong() {
    let settings = OrgSettings::defaults();
    let mut sla = lisbon_sla();
    sla.warn_share = 1.5;
    let refused = run(&settings, &set(0, SettingsDoc::Sla(sla)), Some(Role::Admin)).unwrap_err();
    assert!(refused.to_string().contains("warning share"), "{refused}");

    let mut profile = settings.profile().clone();
    profile.default_department = Some("nowhere".into());
    let refused = run(
        &settings,
        &set(0, SettingsDoc::Organisation(profile.clone())),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("nowhere"), "{refused}");

    profile.default_department = Some("finance".into());
    profile.form.accent_colour = "red; background: url(x)".into();
    let refused = run(
        &settings,
        &set(0, SettingsDoc::Organisation(profile)),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("#rrggbb"), "{refused}");

    let mut rules = settings.rule_set().clone();
    rules.rules[0].then.department = Some("ghost".into());
    let refused = run(
        &settings,
        &set(0, SettingsDoc::Rules(rules)),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("ghost"), "{refused}");

    let mut policy = settings.verification_policy().clone();
    policy.default_for_risk.l1 = 1;
    let refused = run(
        &settings,
        &set(0, SettingsDoc::Verification(policy)),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("fewer"), "{refused}");

    let catalogue = Catalogue {
        categories: vec![],
        tags: vec![TagEntry {
            tag: "Two Words".into(),
            retired: false,
        }],
    };
    assert!(run(
        &settings,
        &set(0, SettingsDoc::Catalogue(catalogue)),
        Some(Role::Admin)
    )
    .is_err());
}

#[test]
fn the_default_department_cannot_be_retired() {
    let settings = OrgSettings::defaults();
    let retire = |code: &str| {
        Mutation::PutDepartment(Department {
            code: code.into(),
            name: "x".into(),
            active: false,
        })
    };
    // `support` is the default department; the test directory has no `support` entry, but the
    // profile still names it.
    assert!(run(&settings, &retire("support"), Some(Role::Admin)).is_err());
    assert!(run(&settings, &retire("finance"), Some(Role::Admin)).is_ok());
    assert!(run(
        &settings,
        &Mutation::PutDepartment(Department {
            code: "Bad Code".into(),
            name: "x".into(),
            active: true,
        }),
        Some(Role::Admin)
    )
    .is_err());
}

#[test]
fn templates_check_placeholders_and_macro_tags() {
    let template = Template {
        id: Uuid::from_u128(1),
        name: "Close as solved".into(),
        language: "en".into(),
        body: "Hello {{customer.name}}, ticket {{ticket.key}} is solved.".into(),
        categories: vec![],
        changes: MacroChanges {
            status: Some(Status::Resolved),
            priority: None,
            add_tags: vec!["solved".into()],
        },
        active: true,
    };
    assert!(run(
        &OrgSettings::defaults(),
        &Mutation::PutTemplate(template.clone()),
        Some(Role::Admin)
    )
    .is_ok());
    let unknown = Template {
        body: "Hi {{customer.password}}".into(),
        ..template.clone()
    };
    let refused = check_template(&unknown).unwrap_err();
    assert!(
        refused.to_string().contains("customer.password"),
        "{refused}"
    );
    let unclosed = Template {
        body: "Hi {{customer.name".into(),
        ..template.clone()
    };
    assert!(check_template(&unclosed).is_err());
    let klingon = Template {
        language: "tlh".into(),
        ..template
    };
    assert!(check_template(&klingon).is_err());
}

#[test]
fn settings_documents_round_trip_on_the_wire() {
    for kind in SettingsKind::ALL {
        let doc = OrgSettings::defaults().get(*kind).clone();
        let json = serde_json::to_string(&doc).unwrap();
        assert!(
            json.contains(&format!("\"kind\":\"{}\"", kind.as_str())),
            "{json}"
        );
        let back: VersionedSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
        let check = |d: &SettingsDoc| {
            check_settings(
                d,
                &AdminFacts {
                    settings: &OrgSettings::defaults(),
                    departments: &[
                        Department {
                            code: "support".into(),
                            name: "S".into(),
                            active: true,
                        },
                        Department {
                            code: "finance".into(),
                            name: "F".into(),
                            active: true,
                        },
                        Department {
                            code: "tech".into(),
                            name: "T".into(),
                            active: true,
                        },
                        Department {
                            code: "risk".into(),
                            name: "R".into(),
                            active: true,
                        },
                    ],
                    templates: &[],
                },
            )
        };
        assert_eq!(check(&back.settings), Ok(()), "{kind:?} defaults validate");
    }
}

fn own_category(code: &str, retired: bool) -> CategoryEntry {
    CategoryEntry {
        category: Category::new(code).unwrap(),
        label_en: "Merchant onboarding".into(),
        label_zh: "商户入驻".into(),
        retired,
    }
}

fn catalogue_of(categories: Vec<CategoryEntry>) -> SettingsDoc {
    SettingsDoc::Catalogue(Catalogue {
        categories,
        tags: vec![],
    })
}

/// `settings` with `doc` applied as the next version, as the server would keep it.
fn with(settings: &OrgSettings, doc: SettingsDoc) -> OrgSettings {
    let base = settings.get(doc.kind()).version;
    let applied = run(settings, &set(base, doc), Some(Role::Admin)).unwrap();
    let AdminChange::Settings(next) = applied.change else {
        panic!("a settings change")
    };
    let mut settings = settings.clone();
    settings.put(next);
    settings
}

#[test]
fn an_admin_adds_renames_and_retires_an_own_category() {
    let defaults = OrgSettings::defaults();
    let onboarding = Category::new("merchant_onboarding").unwrap();
    assert!(!defaults.catalogue().offers(&onboarding));
    assert_eq!(defaults.catalogue().in_use(), Category::BUILT_IN);

    let added = with(
        &defaults,
        catalogue_of(vec![own_category("merchant_onboarding", false)]),
    );
    let catalogue = added.catalogue();
    assert!(catalogue.offers(&onboarding));
    let in_use = catalogue.in_use();
    assert_eq!(in_use.len(), Category::BUILT_IN.len() + 1);
    assert_eq!(in_use.last(), Some(&onboarding));

    let mut renamed = own_category("merchant_onboarding", false);
    renamed.label_en = "Onboarding".into();
    let renamed = with(&added, catalogue_of(vec![renamed]));
    assert_eq!(renamed.catalogue().categories[0].label_en, "Onboarding");

    let retired = with(
        &renamed,
        catalogue_of(vec![own_category("merchant_onboarding", true)]),
    );
    let why = retired.catalogue().why_not_offered(&onboarding).unwrap();
    assert!(why.contains("retired"), "{why}");
    assert!(retired.catalogue().knows(&onboarding));
    assert!(!retired.catalogue().in_use().contains(&onboarding));
    let why = defaults.catalogue().why_not_offered(&onboarding).unwrap();
    assert!(
        why.contains("not one of the organisation's categories"),
        "{why}"
    );

    // Deleting it would orphan the tickets filed under it.
    let refused = run(&retired, &set(3, catalogue_of(vec![])), Some(Role::Admin)).unwrap_err();
    assert!(refused.to_string().contains("only retired"), "{refused}");
}

#[test]
fn the_listing_names_every_category_in_order_and_flags_the_retired() {
    let mut renamed_login = CategoryEntry {
        category: Category::LOGIN_ANOMALY,
        label_en: "Odd sign-in".into(),
        label_zh: String::new(),
        retired: true,
    };
    let catalogue = Catalogue {
        categories: vec![
            own_category("merchant_onboarding", false),
            renamed_login.clone(),
            own_category("chargebacks", true),
        ],
        tags: vec![],
    };
    let listing = catalogue.listing();
    let codes: Vec<&str> = listing.iter().map(|e| e.category.as_str()).collect();
    let mut expected: Vec<&str> = Category::BUILT_IN.iter().map(Category::as_str).collect();
    expected.extend(["merchant_onboarding", "chargebacks"]);
    assert_eq!(codes, expected);
    // Exactly the ones not in use are flagged, and only the catalogue's names are given.
    let not_retired: Vec<Category> = listing
        .iter()
        .filter(|e| !e.retired)
        .map(|e| e.category.clone())
        .collect();
    assert_eq!(not_retired, catalogue.in_use());
    renamed_login.retired = true;
    assert!(listing.contains(&renamed_login));
    let kyc = listing
        .iter()
        .find(|e| e.category == Category::KYC_REVIEW)
        .unwrap();
    assert_eq!((kyc.label_en.as_str(), kyc.label_zh.as_str()), ("", ""));
    assert!(!kyc.retired);
    let chargebacks = listing.last().unwrap();
    assert!(chargebacks.retired);
    assert_eq!(chargebacks.label_zh, "商户入驻");
}

#[test]
fn the_catalogue_refuses_duplicates_nameless_own_categories_and_an_empty_set() {
    let settings = OrgSettings::defaults();
    let refuse = |doc: SettingsDoc| run(&settings, &set(0, doc), Some(Role::Admin)).unwrap_err();

    let twice = refuse(catalogue_of(vec![
        own_category("merchant_onboarding", false),
        own_category("merchant_onboarding", true),
    ]));
    assert!(twice.to_string().contains("listed twice"), "{twice}");

    let mut nameless = own_category("merchant_onboarding", false);
    nameless.label_zh = " ".into();
    let nameless = refuse(catalogue_of(vec![nameless]));
    assert!(
        nameless.to_string().contains("English and a Chinese name"),
        "{nameless}"
    );

    let every_built_in_retired: Vec<CategoryEntry> = Category::BUILT_IN
        .iter()
        .map(|c| CategoryEntry {
            category: c.clone(),
            label_en: String::new(),
            label_zh: String::new(),
            retired: true,
        })
        .collect();
    let empty = refuse(catalogue_of(every_built_in_retired.clone()));
    assert!(empty.to_string().contains("at least one"), "{empty}");

    // A built-in category is retired, never deleted: one own category in use is enough, and a
    // built-in one left out of the document is simply in use under its product name.
    let mut one_left = every_built_in_retired;
    one_left.push(own_category("merchant_onboarding", false));
    assert!(run(
        &settings,
        &set(0, catalogue_of(one_left)),
        Some(Role::Admin)
    )
    .is_ok());
    let retired_kyc = with(
        &settings,
        catalogue_of(vec![CategoryEntry {
            category: Category::KYC_REVIEW,
            label_en: String::new(),
            label_zh: String::new(),
            retired: true,
        }]),
    );
    assert!(!retired_kyc.catalogue().offers(&Category::KYC_REVIEW));
    let back = with(&retired_kyc, catalogue_of(vec![]));
    assert!(back.catalogue().offers(&Category::KYC_REVIEW));

    // A code that is no category code never reaches the catalogue.
    let err = serde_json::from_str::<Catalogue>(
        r#"{"categories": [{"category": "Merchant Onboarding", "label_en": "x", "label_zh": "y"}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("is not a category code"), "{err}");
}

#[test]
fn rules_sla_policies_and_templates_name_only_the_organisations_categories() {
    let settings = OrgSettings::defaults();
    let onboarding = Category::new("merchant_onboarding").unwrap();

    let mut rules = settings.rule_set().clone();
    rules.rules.truncate(1);
    rules.rules[0].then.department = None;
    rules.rules[0].then.category = Some(onboarding.clone());
    let refused = run(
        &settings,
        &set(0, SettingsDoc::Rules(rules.clone())),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("merchant_onboarding is not one of"),
        "{refused}"
    );

    let mut sla = lisbon_sla();
    sla.policies[0].category = Some(onboarding.clone());
    let refused = run(
        &settings,
        &set(0, SettingsDoc::Sla(sla.clone())),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("merchant_onboarding is not one of"),
        "{refused}"
    );

    let template = Template {
        id: Uuid::from_u128(2),
        name: "Welcome".into(),
        language: "en".into(),
        body: "Welcome, {{customer.name}}.".into(),
        categories: vec![onboarding.clone()],
        changes: MacroChanges::default(),
        active: true,
    };
    let refused = run(
        &settings,
        &Mutation::PutTemplate(template.clone()),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("merchant_onboarding"),
        "{refused}"
    );

    // Once the organisation has added it, all three may name it; once retired, rules and SLA
    // policies may not.
    let added = with(
        &settings,
        catalogue_of(vec![own_category("merchant_onboarding", false)]),
    );
    assert!(run(
        &added,
        &set(0, SettingsDoc::Rules(rules.clone())),
        Some(Role::Admin)
    )
    .is_ok());
    assert!(run(&added, &set(0, SettingsDoc::Sla(sla)), Some(Role::Admin)).is_ok());
    assert!(run(&added, &Mutation::PutTemplate(template), Some(Role::Admin)).is_ok());
    let retired = with(
        &added,
        catalogue_of(vec![own_category("merchant_onboarding", true)]),
    );
    let refused = run(
        &retired,
        &set(0, SettingsDoc::Rules(rules)),
        Some(Role::Admin),
    )
    .unwrap_err();
    assert!(refused.to_string().contains("retired"), "{refused}");
}
