use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const PDF: &[u8] = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0";
const WINDOWS_EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF";

fn refusal(result: Result<FileType, Rejection>) -> String {
    match result {
        Err(Rejection::FileRefused(message)) => message,
        other => panic!("expected a file refusal, got {other:?}"),
    }
}

#[test]
fn the_kind_comes_from_the_magic_numbers() {
    assert_eq!(sniff(PNG), Some(FileType::Png));
    assert_eq!(sniff(PDF), Some(FileType::Pdf));
    assert_eq!(sniff(JPEG), Some(FileType::Jpeg));
    assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(FileType::Gif));
    assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), Some(FileType::Gif));
    assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(FileType::Webp));
    // A RIFF that is not WebP (a WAV file) is nothing we accept.
    assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
    assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0"), Some(FileType::Zip));
    assert_eq!(sniff(b"PK\x05\x06\0\0\0\0"), Some(FileType::Zip));
    assert_eq!(
        sniff("账户冻结说明\r\n\tok".as_bytes()),
        Some(FileType::Text)
    );
    assert_eq!(sniff(ELF), None);
    assert_eq!(sniff(WINDOWS_EXE), None);
    assert_eq!(sniff(b""), None);
    // A short prefix of a magic number is not that kind.
    assert_eq!(sniff(b"\x89PN"), None);
}

#[test]
fn text_allows_a_cut_final_character_but_no_controls_or_invalid_bytes() {
    let full = "截图说明".as_bytes();
    // Cut inside the last character (3 bytes each): still text.
    assert_eq!(sniff(&full[..full.len() - 1]), Some(FileType::Text));
    assert_eq!(sniff(b"hello\0world"), None);
    assert_eq!(sniff(b"bell\x07"), None);
    assert_eq!(sniff(b"escape \x1b[31m"), None);
    // An invalid byte in the middle is not a cut character.
    assert_eq!(sniff(b"abc\xFFdef"), None);
    // C1 controls (U+0085) are controls too.
    assert_eq!(sniff("next\u{0085}line".as_bytes()), None);
}

#[test]
fn sniffing_looks_at_the_first_8_kib_only() {
    let mut long = vec![b'a'; SNIFF_BYTES];
    long.push(0);
    assert_eq!(sniff(&long), Some(FileType::Text));
}

#[test]
fn mime_and_extensions_name_every_kind_once() {
    for t in FileType::ALL {
        assert_eq!(FileType::from_mime(t.mime()), Some(*t));
        assert_eq!(t.as_str().parse::<FileType>(), Ok(*t));
        for other in FileType::ALL.iter().filter(|o| *o != t) {
            assert!(
                t.extensions()
                    .iter()
                    .all(|e| !other.extensions().contains(e)),
                "{t} and {other} share an extension"
            );
        }
    }
    assert_eq!(FileType::from_mime("application/x-msdownload"), None);
    assert_eq!(serde_json::to_string(&FileType::Jpeg).unwrap(), "\"jpeg\"");
}

#[test]
fn names_lose_paths_controls_and_direction_tricks() {
    assert_eq!(sanitise_filename("../../etc/passwd"), "passwd");
    assert_eq!(sanitise_filename("C:\\Users\\li\\scan.png"), "scan.png");
    assert_eq!(sanitise_filename("a/b\\c.pdf"), "c.pdf");
    assert_eq!(sanitise_filename("dir/"), "dir");
    assert_eq!(
        sanitise_filename("invoice\u{202E}fdp.exe"),
        "invoicefdp.exe"
    );
    assert_eq!(sanitise_filename("\u{2067}x\u{2069}\u{200F}.png"), "x.png");
    assert_eq!(sanitise_filename("line\nbreak\t.txt"), "linebreak.txt");
    assert_eq!(sanitise_filename("  .hidden.  "), "hidden");
    assert_eq!(sanitise_filename("what?.pdf"), "what_.pdf");
    assert_eq!(sanitise_filename("营业执照 副本.pdf"), "营业执照 副本.pdf");
}

#[test]
fn empty_and_dot_names_become_file() {
    for name in ["", ".", "..", "/", "\\..\\", " . ", "\u{202E}", "\0\0"] {
        assert_eq!(sanitise_filename(name), "file", "{name:?}");
    }
}

#[test]
fn long_names_keep_their_extension() {
    let long = format!("{}.pdf", "账".repeat(300));
    let short = sanitise_filename(&long);
    assert_eq!(short.chars().count(), MAX_FILENAME_CHARS);
    assert!(short.ends_with("账.pdf"), "{short}");
    // A name without an extension, or with an absurd one, is simply cut.
    let plain = sanitise_filename(&"x".repeat(500));
    assert_eq!(plain, "x".repeat(MAX_FILENAME_CHARS));
    let silly = sanitise_filename(&format!("a.{}", "y".repeat(300)));
    assert_eq!(silly.chars().count(), MAX_FILENAME_CHARS);
}

fn forbidden(c: char) -> bool {
    c == '/' || c == '\\' || c.is_control() || is_bidi_control(c)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2048,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    #[test]
    fn sanitised_names_are_safe_short_and_stable(
        name in proptest::collection::vec(
            prop_oneof![
                any::<char>(),
                proptest::sample::select(vec![
                    '/', '\\', '.', ' ', '\u{202E}', '\u{2066}', '\u{200E}', '\u{061C}', '\0',
                    '\n', 'a', '账', ':',
                ]),
            ],
            0..400,
        ).prop_map(|chars| chars.into_iter().collect::<String>())
    ) {
        let once = sanitise_filename(&name);
        prop_assert_eq!(&sanitise_filename(&once), &once);
        prop_assert!(!once.is_empty());
        prop_assert!(once != "." && once != "..");
        prop_assert!(once.chars().count() <= MAX_FILENAME_CHARS);
        prop_assert!(!once.chars().any(forbidden), "{:?}", once);
        prop_assert!(!once.starts_with(['.', ' ']) && !once.ends_with(['.', ' ']));
    }
}

#[test]
fn agents_may_attach_any_kind_up_to_25_mib() {
    assert_eq!(check_upload(None, "scan.png", PNG, 10), Ok(FileType::Png));
    assert_eq!(
        check_upload(None, "logs.zip", b"PK\x03\x04", 10),
        Ok(FileType::Zip)
    );
    assert_eq!(
        check_upload(None, "notes", b"plain words", 11),
        Ok(FileType::Text)
    );
    assert_eq!(
        check_upload(None, "NOTES.TXT", b"plain words", 11),
        Ok(FileType::Text)
    );
    let big = refusal(check_upload(
        None,
        "scan.png",
        PNG,
        MAX_ATTACHMENT_BYTES + 1,
    ));
    assert!(big.contains("at most 25 MiB"), "{big}");
    assert_eq!(
        check_upload(None, "scan.png", PNG, MAX_ATTACHMENT_BYTES),
        Ok(FileType::Png)
    );
}

#[test]
fn a_name_that_contradicts_the_bytes_is_refused_naming_both() {
    let message = refusal(check_upload(None, "invoice.pdf", PNG, 100));
    assert!(message.contains("invoice.pdf"), "{message}");
    assert!(message.contains("PDF document"), "{message}");
    assert!(message.contains("PNG image"), "{message}");
    let message = refusal(check_upload(None, "report.html", b"<html>hi</html>", 15));
    assert!(
        message.contains(".html") && message.contains(".txt"),
        "{message}"
    );
}

#[test]
fn programs_and_empty_files_are_refused() {
    let message = refusal(check_upload(None, "setup.exe", WINDOWS_EXE, 14));
    assert!(message.contains("not a kind of file"), "{message}");
    refusal(check_upload(None, "tool", ELF, 12));
    // Renaming a program does not help: the bytes decide.
    refusal(check_upload(None, "statement.pdf", ELF, 12));
    let message = refusal(check_upload(None, "empty.txt", b"", 0));
    assert!(message.contains("is empty"), "{message}");
}

#[test]
fn customers_are_held_to_the_organisation_policy() {
    let policy = AttachmentPolicy::default();
    assert_eq!(
        check_upload(Some(&policy), "id.jpg", JPEG, 1000),
        Ok(FileType::Jpeg)
    );
    let message = refusal(check_upload(Some(&policy), "notes.txt", b"words", 5));
    assert!(
        message.contains("plain text") && message.contains("PDF, JPEG, PNG"),
        "{message}"
    );
    let message = refusal(check_upload(
        Some(&policy),
        "id.jpg",
        JPEG,
        5 * 1024 * 1024 + 1,
    ));
    assert!(
        message.contains("5.0 MiB") && message.contains("at most 5 MiB"),
        "{message}"
    );
    // A policy above the product's limit is still held to it.
    let loose = AttachmentPolicy {
        max_bytes: u64::MAX,
        ..AttachmentPolicy::default()
    };
    refusal(check_upload(
        Some(&loose),
        "id.jpg",
        JPEG,
        MAX_ATTACHMENT_BYTES + 1,
    ));
}

#[test]
fn a_policy_is_validated() {
    assert_eq!(AttachmentPolicy::default().validate(), Ok(()));
    let with = |f: fn(&mut AttachmentPolicy)| {
        let mut p = AttachmentPolicy::default();
        f(&mut p);
        p.validate()
    };
    assert!(with(|p| p.types.clear()).is_err());
    assert!(with(|p| p.types.push(FileType::Pdf)).is_err());
    assert!(with(|p| p.max_bytes = 0).is_err());
    assert!(with(|p| p.max_bytes = MAX_ATTACHMENT_BYTES + 1).is_err());
    assert_eq!(with(|p| p.max_bytes = MAX_ATTACHMENT_BYTES), Ok(()));
    assert!(with(|p| p.max_per_message = 0).is_err());
    assert!(with(|p| p.max_per_message = MAX_ATTACHMENTS_PER_MESSAGE + 1).is_err());
    assert_eq!(
        with(|p| p.max_per_message = MAX_ATTACHMENTS_PER_MESSAGE),
        Ok(())
    );
}

#[test]
fn a_policy_reads_from_its_wire_names() {
    let policy: AttachmentPolicy =
        serde_json::from_str(r#"{"types":["pdf","webp"],"max_bytes":1048576,"max_per_message":3}"#)
            .unwrap();
    assert_eq!(policy.types, vec![FileType::Pdf, FileType::Webp]);
    assert!(serde_json::from_str::<AttachmentPolicy>(
        r#"{"types":["exe"],"max_bytes":1,"max_per_message":1}"#
    )
    .is_err());
}

#[test]
fn sizes_read_like_people_write_them() {
    assert_eq!(human_size(1), "1 byte");
    assert_eq!(human_size(900), "900 bytes");
    assert_eq!(human_size(2048), "2 KiB");
    assert_eq!(human_size(5 * 1024 * 1024), "5 MiB");
    assert_eq!(human_size(5 * 1024 * 1024 + 1), "5.0 MiB");
}

#[test]
fn the_organisation_document_carries_a_validated_policy() {
    use crate::model::Department;
    use crate::settings::{check_settings, AdminFacts, OrgSettings, SettingsDoc};

    let settings = OrgSettings::defaults();
    assert_eq!(settings.profile().attachments, AttachmentPolicy::default());
    let departments = [Department {
        code: "support".into(),
        name: "Support".into(),
        active: true,
    }];
    let facts = AdminFacts {
        settings: &settings,
        departments: &departments,
        templates: &[],
    };
    let mut profile = settings.profile().clone();
    assert_eq!(
        check_settings(&SettingsDoc::Organisation(profile.clone()), &facts),
        Ok(())
    );
    profile.attachments.max_per_message = 0;
    match check_settings(&SettingsDoc::Organisation(profile), &facts) {
        Err(Rejection::Invalid { field, .. }) => assert_eq!(field, "attachments"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A document written before attachments were configurable reads with the defaults.
    let mut old = serde_json::to_value(settings.profile()).unwrap();
    old.as_object_mut().unwrap().remove("attachments");
    let read: crate::settings::OrgProfile = serde_json::from_value(old).unwrap();
    assert_eq!(read.attachments, AttachmentPolicy::default());
}
