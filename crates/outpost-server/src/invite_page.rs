//! The invitation page's HTML (`invite.rs`): choose a password, the confirmation, and the
//! refusals for a used, expired or unknown link, in English and Simplified Chinese. Written with
//! maud like the customer pages and served through the same page frame (`pages::page`): no
//! script, every spliced value escaped, and a Content-Security-Policy that forbids scripts.

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use crate::pages::{page, Lang, PageLang};

/// How long an invitation link works.
pub const INVITE_VALID_DAYS: i64 = 7;
/// The shortest password an invitee may choose, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest, in characters (Argon2 hashes any length; this bounds the work a form can ask).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a link no longer leads to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its password was set already.
    Used,
    /// Older than the validity period, or replaced by a newer link.
    Expired,
    /// Not a link at all (or its user was disabled).
    Unknown,
}

/// What is wrong with the password typed into the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    TooShort,
    TooLong,
    Mismatch,
}

struct Text {
    title: &'static str,
    account: &'static str,
    /// `{min}` is the shortest allowed length.
    password: &'static str,
    confirm: &'static str,
    submit: &'static str,
    done: &'static str,
    used: &'static str,
    /// `{days}` is the validity period.
    expired: &'static str,
    unknown: &'static str,
    /// `{min}`.
    too_short: &'static str,
    /// `{max}`.
    too_long: &'static str,
    mismatch: &'static str,
}

const EN: Text = Text {
    title: "Set your Outpost password",
    account: "Account",
    password: "New password (at least {min} characters)",
    confirm: "Type it again",
    submit: "Set password",
    done: "Your password is set. Sign in to the Outpost app with your e-mail address and this password.",
    used: "This invitation link has been used already. If you cannot sign in, ask your administrator for a new link.",
    expired: "This invitation link has expired (links work for {days} days) or was replaced by a newer one. Ask your administrator for a new link.",
    unknown: "This invitation link is not valid.",
    too_short: "Choose a password of at least {min} characters.",
    too_long: "Choose a password of at most {max} characters.",
    mismatch: "The two passwords differ; type the same password twice.",
};

const ZH: Text = Text {
    title: "设置您的 Outpost 密码",
    account: "账号",
    password: "新密码（至少 {min} 个字符）",
    confirm: "再次输入密码",
    submit: "设置密码",
    done: "密码已设置。请使用您的邮箱和此密码登录 Outpost 应用。",
    used: "此邀请链接已被使用。如无法登录，请联系管理员重新发送链接。",
    expired: "此邀请链接已过期（有效期 {days} 天）或已被新链接取代。请联系管理员重新发送链接。",
    unknown: "邀请链接无效。",
    too_short: "密码至少需要 {min} 个字符。",
    too_long: "密码最多 {max} 个字符。",
    mismatch: "两次输入的密码不一致，请重新输入。",
};

fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::En => &EN,
        Lang::ZhCn => &ZH,
    }
}

fn fill(template: &str) -> String {
    template
        .replace("{min}", &MIN_PASSWORD_CHARS.to_string())
        .replace("{max}", &MAX_PASSWORD_CHARS.to_string())
        .replace("{days}", &INVITE_VALID_DAYS.to_string())
}

/// The form for `email`'s new password, with `problem` above it after a refused submission.
/// The typed passwords are never sent back.
pub(crate) fn form(
    status: StatusCode,
    lang: Lang,
    token: &str,
    email: &str,
    problem: Option<Problem>,
) -> Response {
    let t = text(lang);
    let message = problem.map(|p| match p {
        Problem::TooShort => fill(t.too_short),
        Problem::TooLong => fill(t.too_long),
        Problem::Mismatch => t.mismatch.to_owned(),
    });
    let body = html! {
        @if let Some(message) = &message {
            p role="alert" { (message) }
        }
        p { (t.account) ": " strong { (email) } }
        form method="post" action={ "/invite/" (token) "?lang=" (lang.tag()) } {
            label { (fill(t.password)) input type="password" name="password" autocomplete="new-password" required minlength=(MIN_PASSWORD_CHARS) maxlength=(MAX_PASSWORD_CHARS); }
            label { (t.confirm) input type="password" name="confirm" autocomplete="new-password" required minlength=(MIN_PASSWORD_CHARS) maxlength=(MAX_PASSWORD_CHARS); }
            button type="submit" { (t.submit) }
        }
    };
    page(status, lang, t.title, body)
}

/// The password was set.
pub(crate) fn done(lang: Lang, email: &str) -> Response {
    let t = text(lang);
    let body = html! {
        p { (t.account) ": " strong { (email) } }
        p { (t.done) }
    };
    page(StatusCode::OK, lang, t.title, body)
}

/// The link no longer leads to the form: 410 for a used or expired link, 404 for anything else.
pub(crate) fn refused(lang: Lang, refusal: Refusal) -> Response {
    let t = text(lang);
    let (status, message) = match refusal {
        Refusal::Used => (StatusCode::GONE, t.used.to_owned()),
        Refusal::Expired => (StatusCode::GONE, fill(t.expired)),
        Refusal::Unknown => (StatusCode::NOT_FOUND, t.unknown.to_owned()),
    };
    page(
        status,
        lang,
        t.title,
        html! { p role="alert" { (message) } },
    )
}

#[cfg(test)]
mod tests {
    use axum::http::header;

    use super::*;

    fn html_of(response: Response) -> (StatusCode, axum::http::HeaderMap, String) {
        let (parts, body) = response.into_parts();
        let bytes = futures_util::FutureExt::now_or_never(axum::body::to_bytes(body, usize::MAX))
            .expect("a rendered page is a complete body")
            .expect("the body reads");
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).expect("UTF-8"),
        )
    }

    #[test]
    fn the_form_escapes_what_it_shows_and_runs_no_script() {
        let hostile = "\"><script>alert(1)</script>@x.example";
        let (status, headers, html) = html_of(form(
            StatusCode::BAD_REQUEST,
            Lang::En,
            "tok\"><script>",
            hostile,
            Some(Problem::Mismatch),
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@x.example"));
        assert!(html.contains("action=\"/invite/tok&quot;&gt;&lt;script&gt;?lang=en\""));
        assert!(html.contains("<p role=\"alert\">The two passwords differ"));
        assert!(html.contains("minlength=\"12\""));
    }

    #[test]
    fn refusals_say_why_in_both_languages() {
        let (status, _, html) = html_of(refused(Lang::ZhCn, Refusal::Expired));
        assert_eq!(status, StatusCode::GONE);
        assert!(html.contains("有效期 7 天"), "{html}");
        let (status, _, html) = html_of(refused(Lang::En, Refusal::Used));
        assert_eq!(status, StatusCode::GONE);
        assert!(html.contains("used already"));
        let (status, _, html) = html_of(refused(Lang::En, Refusal::Unknown));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!html.contains("<form"));
        let (_, _, html) = html_of(done(Lang::ZhCn, "li@x.example"));
        assert!(html.contains("密码已设置") && html.contains("li@x.example"));
    }
}
