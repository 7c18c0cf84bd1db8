//! The customer pages' HTML: the new-ticket form, the status page with the conversation and the
//! reply or rating form, and the one-line notices, in English and Simplified Chinese.
//!
//! Markup is written with maud's `html!`, which checks it at compile time and escapes every
//! spliced value: ticket text, names, tokens and error reasons can only ever be text. The pages
//! carry no JavaScript, and the Content-Security-Policy set on every response forbids scripts
//! whatever a ticket contains.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use outpost_core::files::{human_size, AttachmentPolicy, FileType};
use outpost_core::model::{Entry, EntryBody, Status, Ticket};
use uuid::Uuid;

use crate::multipart::{FileProblem, UploadError};

/// The languages the customer pages are written in: the product's two (core's `Lang`).
pub(crate) use outpost_core::Lang;

/// Every text of the pages, in one language.
pub(crate) struct Text {
    pub(crate) title_new: &'static str,
    pub(crate) subject: &'static str,
    pub(crate) description: &'static str,
    pub(crate) name: &'static str,
    pub(crate) contact: &'static str,
    pub(crate) account: &'static str,
    pub(crate) submit: &'static str,
    pub(crate) ticket: &'static str,
    pub(crate) status: &'static str,
    pub(crate) keep_link: &'static str,
    pub(crate) conversation: &'static str,
    pub(crate) you: &'static str,
    pub(crate) team: &'static str,
    pub(crate) reply: &'static str,
    pub(crate) send: &'static str,
    pub(crate) rate: &'static str,
    pub(crate) rate_prompt: &'static str,
    pub(crate) comment: &'static str,
    pub(crate) thanks: &'static str,
    pub(crate) reopened: &'static str,
    pub(crate) rated_already: &'static str,
    pub(crate) not_found: &'static str,
    pub(crate) too_many: &'static str,
    pub(crate) invalid: &'static str,
    /// A refused field; `{}` is the field's label.
    pub(crate) check_field: &'static str,
    /// The organisation's response-time promise; `{}` is the number of hours.
    pub(crate) promise: &'static str,
    /// The logo's text alternative.
    pub(crate) logo: &'static str,
    /// The file input's label.
    pub(crate) files: &'static str,
    /// What the file input takes: `{types}`, `{size}` (each), `{count}` (per message).
    pub(crate) files_hint: &'static str,
    /// The heading above the ticket's files.
    pub(crate) attachments: &'static str,
    /// `{}` is the most files one message may carry.
    pub(crate) too_many_files: &'static str,
    pub(crate) form_too_large: &'static str,
    pub(crate) form_broken: &'static str,
    /// A refused file: `{name}` is its (sanitised) name, `{limit}` the largest size, `{kind}`
    /// what its bytes are, `{types}` what the organisation accepts.
    pub(crate) file_empty: &'static str,
    pub(crate) file_too_large: &'static str,
    pub(crate) file_unknown_kind: &'static str,
    pub(crate) file_name_contradicts: &'static str,
    pub(crate) file_kind_not_accepted: &'static str,
    /// How a kind of file is called in a sentence.
    pub(crate) kinds: fn(FileType) -> &'static str,
}

const EN: Text = Text {
    title_new: "Contact support",
    subject: "Subject",
    description: "What happened?",
    name: "Your name",
    contact: "E-mail or phone",
    account: "Account ID (optional)",
    submit: "Submit",
    ticket: "Ticket",
    status: "Status",
    keep_link: "Keep this page's address: it is the only way to follow your ticket.",
    conversation: "Conversation",
    you: "You",
    team: "Support team",
    reply: "Add a message",
    send: "Send",
    rate: "How did we do?",
    rate_prompt: "1 = very unhappy, 5 = very happy",
    comment: "Comment (optional)",
    thanks: "Thank you for your rating.",
    reopened:
        "We are sorry. Your ticket has been reopened and we will get back to you within 24 hours.",
    rated_already: "This ticket has been rated already. Thank you for your feedback.",
    not_found: "This link is not valid.",
    too_many: "Too many submissions from your network; please wait a minute.",
    invalid: "Please fill in every required field.",
    check_field:
        "Please check “{}”: it is too long, contains a line break, or is not a valid address.",
    promise: "We answer within {} hours.",
    logo: "Logo",
    files: "Attach files (optional)",
    files_hint: "{types}; up to {size} each, at most {count} files.",
    attachments: "Files",
    too_many_files: "Attach at most {} files to one message.",
    form_too_large: "What you sent is larger than this form takes; attach fewer or smaller files.",
    form_broken: "Your message did not arrive whole; please send it again.",
    file_empty: "“{name}” is empty; attach a file with something in it.",
    file_too_large: "“{name}” is larger than {limit}; each file may be at most {limit}.",
    file_unknown_kind: "“{name}” is not a kind of file we accept ({types}); programs, scripts and web pages are never accepted.",
    file_name_contradicts: "“{name}” is named like another kind of file, but its content is {kind}; attach the right file or correct its name.",
    file_kind_not_accepted: "“{name}” is {kind}; we accept {types}.",
    kinds: FileType::label,
};

const ZH: Text = Text {
    title_new: "联系客服",
    subject: "标题",
    description: "遇到了什么问题？",
    name: "您的姓名",
    contact: "邮箱或手机",
    account: "账户号（选填）",
    submit: "提交",
    ticket: "工单",
    status: "状态",
    keep_link: "请保存本页地址：这是查看工单进度的唯一方式。",
    conversation: "沟通记录",
    you: "您",
    team: "客服团队",
    reply: "补充说明",
    send: "发送",
    rate: "请评价本次服务",
    rate_prompt: "1 = 非常不满意，5 = 非常满意",
    comment: "意见（选填）",
    thanks: "感谢您的评价。",
    reopened: "非常抱歉，您的工单已重新打开，我们会在 24 小时内回访。",
    rated_already: "该工单已评价过，感谢您的反馈。",
    not_found: "链接无效。",
    too_many: "提交过于频繁，请一分钟后再试。",
    invalid: "请填写所有必填项。",
    check_field: "请检查「{}」：内容过长、包含换行，或地址格式不正确。",
    promise: "我们将在 {} 小时内答复。",
    logo: "标志",
    files: "上传附件（选填）",
    files_hint: "支持 {types}；每个文件不超过 {size}，最多 {count} 个。",
    attachments: "附件",
    too_many_files: "每条消息最多附 {} 个文件。",
    form_too_large: "提交的内容超过表单上限，请减少附件或附上较小的文件。",
    form_broken: "您的消息未完整送达，请重新发送。",
    file_empty: "“{name}”是空文件，请附上有内容的文件。",
    file_too_large: "“{name}”超过 {limit}，每个文件不能超过 {limit}。",
    file_unknown_kind: "“{name}”不是可接受的文件类型（{types}）；程序、脚本和网页一律不接受。",
    file_name_contradicts:
        "“{name}”的文件名与内容不符：内容是{kind}。请附上正确的文件或更正文件名。",
    file_kind_not_accepted: "“{name}”是{kind}；我们只接受 {types}。",
    kinds: kind_zh,
};

fn kind_zh(kind: FileType) -> &'static str {
    match kind {
        FileType::Pdf => "PDF 文档",
        FileType::Jpeg => "JPEG 图片",
        FileType::Png => "PNG 图片",
        FileType::Gif => "GIF 图片",
        FileType::Webp => "WebP 图片",
        FileType::Zip => "ZIP 压缩包",
        FileType::Text => "纯文本文件",
    }
}

/// The kinds `policy` accepts, as people name them: "PDF, JPEG, PNG".
fn accepted_kinds(policy: &AttachmentPolicy) -> String {
    let names: Vec<String> = policy
        .types
        .iter()
        .map(|t| match t {
            FileType::Text => "TXT".to_owned(),
            other => other.as_str().to_uppercase(),
        })
        .collect();
    names.join(", ")
}

/// The file input's `accept`: the policy's extensions and media types (a hint to the browser's
/// picker; the server decides by the bytes).
fn accept_attribute(policy: &AttachmentPolicy) -> String {
    let mut accept: Vec<String> = Vec::new();
    for kind in &policy.types {
        accept.extend(kind.extensions().iter().map(|e| format!(".{e}")));
        accept.push(kind.mime().to_owned());
    }
    accept.join(",")
}

/// Why a customer's message with files was refused, as a sentence in `lang`.
pub(crate) fn upload_refusal(lang: Lang, policy: &AttachmentPolicy, error: &UploadError) -> String {
    let t = lang.text();
    match error {
        UploadError::File {
            filename, problem, ..
        } => {
            let (template, kind) = match problem {
                FileProblem::Empty => (t.file_empty, None),
                FileProblem::TooLarge { .. } => (t.file_too_large, None),
                FileProblem::UnknownKind => (t.file_unknown_kind, None),
                FileProblem::NameContradicts { actual } => (t.file_name_contradicts, Some(*actual)),
                FileProblem::KindNotAccepted { actual } => {
                    (t.file_kind_not_accepted, Some(*actual))
                }
            };
            let limit = match problem {
                FileProblem::TooLarge { limit } => *limit,
                _ => policy.max_bytes,
            };
            template
                .replace("{limit}", &human_size(limit))
                .replace("{kind}", kind.map_or("", t.kinds))
                .replace("{types}", &accepted_kinds(policy))
                .replace("{name}", filename)
        }
        UploadError::TooMany { limit } => t.too_many_files.replace("{}", &limit.to_string()),
        UploadError::TooLarge => t.form_too_large.to_owned(),
        UploadError::Malformed(_) | UploadError::Internal(_) => t.form_broken.to_owned(),
    }
}

/// The file input of the customer forms, with what it takes under `policy`.
fn file_input(t: &Text, policy: &AttachmentPolicy) -> Markup {
    let hint = t
        .files_hint
        .replace("{types}", &accepted_kinds(policy))
        .replace("{size}", &human_size(policy.max_bytes))
        .replace("{count}", &policy.max_per_message.to_string());
    html! {
        label { (t.files) input type="file" name="files" multiple accept=(accept_attribute(policy)); }
        p.meta { (hint) }
    }
}

fn status_label(status: Status, lang: Lang) -> &'static str {
    match (lang, status) {
        (Lang::En, Status::New | Status::Triaged) => "Received",
        (Lang::En, Status::Assigned | Status::InProgress) => "Being handled",
        (Lang::En, Status::Pending) => "Waiting for your reply",
        (Lang::En, Status::Resolved) => "Resolved",
        (Lang::En, Status::Closed) => "Closed",
        (Lang::ZhCn, Status::New | Status::Triaged) => "已受理",
        (Lang::ZhCn, Status::Assigned | Status::InProgress) => "处理中",
        (Lang::ZhCn, Status::Pending) => "等待您的回复",
        (Lang::ZhCn, Status::Resolved) => "已解决",
        (Lang::ZhCn, Status::Closed) => "已关闭",
    }
}

/// What the pages need of a language: their texts and the tag they link with.
pub(crate) trait PageLang {
    fn text(self) -> &'static Text;
    fn tag(self) -> &'static str;
}

impl PageLang for Lang {
    fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::ZhCn => &ZH,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
}

/// `?lang=` wins, then the browser's first preference when it is English or Chinese, then
/// `default` (the organisation's form language).
pub(crate) fn pick_lang_or(query: Option<&str>, headers: &HeaderMap, default: Lang) -> Lang {
    if query.is_some() {
        return pick_lang(query, headers);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim_start();
    let named = ["en", "zh"]
        .iter()
        .any(|p| accept.get(..2).is_some_and(|a| a.eq_ignore_ascii_case(p)));
    if named {
        Lang::from_tag(accept)
    } else {
        default
    }
}

/// `?lang=` wins, then the browser's first preference.
pub(crate) fn pick_lang(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Lang::from_tag(query.unwrap_or(accept.trim_start()))
}

/// The pages' only styles, inline (the CSP allows inline styles and nothing else).
const STYLE: &str = "body{font:15px/1.5 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;\
    max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}label{display:block;margin-top:.8rem}\
    input,textarea,select{width:100%;padding:.4rem;font:inherit}textarea{min-height:8rem}\
    button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}.entry{border-left:3px solid #ccd;padding:.2rem .8rem;margin:.8rem 0;white-space:pre-wrap}\
    .team{border-color:#4a7}.meta{color:#667;font-size:13px}\
    button{background:var(--accent,#2563eb);color:#fff;border:0;border-radius:4px}\
    h1{border-bottom:3px solid var(--accent,#2563eb);padding-bottom:.3rem}.logo{max-height:48px}";

/// How the organisation dresses its customer form (`organisation` settings, `form`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Branding<'a> {
    /// The heading; when `None`, the product's own ("Contact support"), after the
    /// organisation's name when there is one ("Acme · Contact support").
    pub(crate) title: Option<&'a str>,
    pub(crate) organisation: Option<&'a str>,
    /// `#rrggbb`; anything else is ignored (the product's colour stays).
    pub(crate) accent: &'a str,
    /// Whether `/c/logo.png` has a logo to show.
    pub(crate) logo: bool,
    pub(crate) promise_hours: Option<u32>,
}

impl Default for Branding<'_> {
    fn default() -> Self {
        Branding {
            title: None,
            organisation: None,
            accent: "#2563eb",
            logo: false,
            promise_hours: None,
        }
    }
}

/// `colour` if it is `#rrggbb`: the only text ever spliced into a style sheet.
fn css_colour(colour: &str) -> Option<&str> {
    let bytes = colour.as_bytes();
    (bytes.len() == 7 && bytes[0] == b'#' && bytes[1..].iter().all(u8::is_ascii_hexdigit))
        .then_some(colour)
}

/// A complete page. No scripts are allowed to run, whatever a ticket contains.
pub(crate) fn page(status: StatusCode, lang: Lang, title: &str, body: Markup) -> Response {
    branded_page(status, lang, title, &Branding::default(), body)
}

/// [`page`] in the organisation's colours, with its logo above the heading.
fn branded_page(
    status: StatusCode,
    lang: Lang,
    title: &str,
    branding: &Branding<'_>,
    body: Markup,
) -> Response {
    let accent = css_colour(branding.accent).map(|c| format!(":root{{--accent:{c}}}"));
    let html = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                // A constant: style sheets are raw text, which HTML escaping would corrupt.
                style { (PreEscaped(STYLE)) }
                // The accent is a custom property whose value is `#` and six hex digits.
                @if let Some(accent) = accent {
                    style { (PreEscaped(accent)) }
                }
            }
            body {
                @if branding.logo {
                    img.logo src="/c/logo.png" alt=(lang.text().logo);
                }
                h1 { (title) }
                (body)
            }
        }
    };
    let mut response = (status, html.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        // Images only from this server, and only on a page that shows the logo.
        HeaderValue::from_static(if branding.logo {
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        } else {
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        }),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// What the customer typed into the new-ticket form: shown again after a refusal, so nothing
/// they wrote is lost.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FormFields<'a> {
    pub(crate) subject: &'a str,
    pub(crate) description: &'a str,
    pub(crate) name: &'a str,
    pub(crate) contact: &'a str,
    pub(crate) account_id: &'a str,
}

impl Text {
    /// The label of a field outpost-core refused (`subject`, `requester.contact`, …).
    pub(crate) fn field_label(&self, field: &str) -> &'static str {
        match field {
            "subject" => self.subject,
            "description" => self.description,
            "requester.name" => self.name,
            "requester.contact" => self.contact,
            "requester.account_id" => self.account,
            _ => self.invalid,
        }
    }
}

/// The new-ticket form, with `message` above it after a refused submission and the fields as
/// the customer filled them. Size limits are outpost-core's, so the browser stops what the
/// server would refuse.
pub(crate) fn new_ticket(
    status: StatusCode,
    lang: Lang,
    message: Option<&str>,
    fields: FormFields<'_>,
    branding: &Branding<'_>,
    policy: &AttachmentPolicy,
) -> Response {
    use outpost_core::apply::MAX_SUBJECT_CHARS;
    use outpost_core::model::{MAX_ACCOUNT_ID_CHARS, MAX_CONTACT_CHARS, MAX_NAME_CHARS};
    let t = lang.text();
    let promise = branding
        .promise_hours
        .map(|hours| t.promise.replace("{}", &hours.to_string()));
    let body = html! {
        @if let Some(promise) = promise {
            p.meta { (promise) }
        }
        @if let Some(message) = message {
            p role="alert" { (message) }
        }
        form method="post" action={ "/c/new?lang=" (lang.tag()) } enctype="multipart/form-data" {
            label { (t.subject) input name="subject" required maxlength=(MAX_SUBJECT_CHARS) value=(fields.subject); }
            label { (t.description) textarea name="description" required { (fields.description) } }
            label { (t.name) input name="name" required maxlength=(MAX_NAME_CHARS) value=(fields.name); }
            label { (t.contact) input name="contact" required maxlength=(MAX_CONTACT_CHARS) value=(fields.contact); }
            label { (t.account) input name="account_id" maxlength=(MAX_ACCOUNT_ID_CHARS) value=(fields.account_id); }
            (file_input(t, policy))
            button type="submit" { (t.submit) }
        }
    };
    let title = match (branding.title, branding.organisation) {
        (Some(title), _) => title.to_owned(),
        (None, Some(organisation)) => format!("{organisation} · {}", t.title_new),
        (None, None) => t.title_new.to_owned(),
    };
    branded_page(status, lang, &title, branding, body)
}

/// A page that is only its title: a notice such as "Thank you for your rating."
pub(crate) fn notice(status: StatusCode, lang: Lang, title: &str) -> Response {
    page(status, lang, title, html! {})
}

/// The answer to a link that leads to no ticket.
pub(crate) fn not_found(lang: Lang) -> Response {
    notice(StatusCode::NOT_FOUND, lang, lang.text().not_found)
}

/// The message form's state on the status page: what it takes, and after a refusal the reason
/// and the text the customer wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyForm<'a> {
    pub(crate) status: StatusCode,
    pub(crate) policy: &'a AttachmentPolicy,
    pub(crate) message: Option<&'a str>,
    pub(crate) text: &'a str,
}

/// The files a customer may see on their ticket: the ones they (or the intake connector, for
/// them) sent, which no signed-in user authored. Agents' attachments are not shown: an
/// attachment entry does not say whether it goes with a reply or an internal note, so none is
/// assumed public. Redacted files are gone from the timeline.
pub(crate) fn customer_files(entries: &[Entry]) -> impl Iterator<Item = (Uuid, &str, u64)> {
    entries.iter().filter_map(|entry| match &entry.body {
        EntryBody::Attachment {
            attachment_id,
            filename,
            size,
            ..
        } if entry.author.is_none() => Some((*attachment_id, filename.as_str(), *size)),
        _ => None,
    })
}

/// The ticket's page behind the customer's link (`token`): its status, the customer's messages
/// and the team's replies, the customer's files, then the rating form (resolved or closed, not
/// rated yet) or the message form (any other status but closed).
pub(crate) fn status(
    lang: Lang,
    token: &str,
    ticket: &Ticket,
    entries: &[Entry],
    form: ReplyForm<'_>,
) -> Response {
    let t = lang.text();
    let key = ticket.key.as_deref().unwrap_or("");
    let rate = matches!(ticket.status, Status::Resolved | Status::Closed) && ticket.csat.is_none();
    // Internal notes, events, verification records and risk actions never reach this page.
    let conversation = entries.iter().filter_map(|entry| match &entry.body {
        EntryBody::CustomerMessage { text } => Some((entry, t.you, false, text)),
        EntryBody::Reply { text } => Some((entry, t.team, true, text)),
        _ => None,
    });
    let body = html! {
        p.meta {
            (t.ticket) " " (key) " · " (t.status) ": "
            strong { (status_label(ticket.status, lang)) }
        }
        p { (t.keep_link) }
        h2 { (ticket.subject) }
        div.entry { (ticket.description) }
        h2 { (t.conversation) }
        @for (entry, who, team, text) in conversation {
            div.entry.team[team] {
                span.meta { (who) " · " (entry.created_at.format("%Y-%m-%d %H:%M UTC")) }
                "\n" (text)
            }
        }
        @if customer_files(entries).next().is_some() {
            h2 { (t.attachments) }
            ul {
                @for (id, filename, size) in customer_files(entries) {
                    li {
                        a href={ "/c/t/" (token) "/files/" (id) } { (filename) }
                        " · " (human_size(size))
                    }
                }
            }
        }
        @if rate {
            h2 { (t.rate) }
            form method="post" action={ "/c/t/" (token) "/csat?lang=" (lang.tag()) } {
                label {
                    (t.rate_prompt)
                    select name="score" {
                        @for score in (1..=5).rev() {
                            option { (score) }
                        }
                    }
                }
                label { (t.comment) textarea name="comment" {} }
                button type="submit" { (t.send) }
            }
        } @else if ticket.status != Status::Closed {
            @if let Some(message) = form.message {
                p role="alert" { (message) }
            }
            form method="post" action={ "/c/t/" (token) "/message?lang=" (lang.tag()) } enctype="multipart/form-data" {
                label { (t.reply) textarea name="text" required { (form.text) } }
                (file_input(t, form.policy))
                button type="submit" { (t.send) }
            }
        }
    };
    page(form.status, lang, &format!("{} {key}", t.ticket), body)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::Duration;
    use outpost_core::model::Csat;
    use outpost_synth::SynthConfig;

    use super::*;

    /// Every element the pages may contain; anything else in the markup was injected.
    const ELEMENTS: &[&str] = &[
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong",
        "div", "span", "form", "label", "input", "textarea", "select", "option", "button", "img",
        "ul", "li", "a",
    ];

    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "\"'><img src=x onerror=alert(2)>",
        "</textarea><svg onload=alert(3)>",
        "' autofocus onfocus='alert(4)",
        "<iframe src=\"javascript:alert(5)\"></iframe>",
    ];

    fn reply_form(policy: &AttachmentPolicy) -> ReplyForm<'_> {
        ReplyForm {
            status: StatusCode::OK,
            policy,
            message: None,
            text: "",
        }
    }

    fn html_of(response: Response) -> (StatusCode, HeaderMap, String) {
        let (parts, body) = response.into_parts();
        let bytes = futures_util::FutureExt::now_or_never(axum::body::to_bytes(body, usize::MAX))
            .expect("a rendered page is a complete body")
            .expect("the body reads");
        let html = String::from_utf8(bytes.to_vec()).expect("pages are UTF-8");
        (parts.status, parts.headers, html)
    }

    /// The names of the elements in `html`, in order.
    fn elements(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .filter(|rest| !rest.starts_with('/'))
            .map(|rest| {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect()
    }

    fn assert_only_page_markup(html: &str) {
        for element in elements(html) {
            assert!(ELEMENTS.contains(&element), "<{element}> in {html}");
        }
        for attack in ["onerror=", "onload=", "onfocus="] {
            // Present only as escaped text inside an element or inside a quoted attribute value
            // (where `"` is escaped, so it cannot end the value), never as an attribute.
            for tag in html.split('<').skip(1) {
                let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
                let outside_values: String = tag.split('"').step_by(2).collect();
                assert!(!outside_values.contains(attack), "{attack} inside <{tag}>");
            }
        }
    }

    fn ticket_with_timeline() -> (Ticket, Vec<Entry>) {
        let data = outpost_synth::generate(&SynthConfig {
            tickets: 1,
            entries: 1,
            ..SynthConfig::default()
        });
        let mut ticket = data.tickets[0].clone();
        ticket.key = Some(format!("T-1{}", HOSTILE[1]));
        ticket.subject = HOSTILE[0].into();
        ticket.description = HOSTILE[1].into();
        ticket.status = Status::InProgress;
        ticket.csat = None;
        let bodies = [
            EntryBody::CustomerMessage {
                text: HOSTILE[2].into(),
            },
            EntryBody::Reply {
                text: HOSTILE[3].into(),
            },
            EntryBody::Note {
                text: format!("INTERNAL {}", HOSTILE[4]),
            },
        ];
        let entries = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| Entry {
                id: Uuid::now_v7(),
                ticket_id: ticket.id,
                author: None,
                body,
                created_at: ticket.created_at + Duration::minutes(i as i64),
            })
            .collect();
        (ticket, entries)
    }

    #[test]
    fn hostile_ticket_text_is_shown_as_text_on_the_status_page() {
        let (ticket, entries) = ticket_with_timeline();
        let token = "tok\"><script>alert(6)</script>";
        let (status, headers, html) = html_of(status(
            Lang::En,
            token,
            &ticket,
            &entries,
            reply_form(&AttachmentPolicy::default()),
        ));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        );
        assert_only_page_markup(&html);
        assert!(
            html.contains("<h2>&lt;script&gt;alert(1)&lt;/script&gt;</h2>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<div class=\"entry\">&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;</div>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<title>Ticket T-1&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;</title>"),
            "{html}"
        );
        assert!(
            html.contains("\n&lt;/textarea&gt;&lt;svg onload=alert(3)&gt;</div>"),
            "{html}"
        );
        assert!(
            html.contains("\n' autofocus onfocus='alert(4)</div>"),
            "{html}"
        );
        assert!(
            html.contains(
                "action=\"/c/t/tok&quot;&gt;&lt;script&gt;alert(6)&lt;/script&gt;/message?lang=en\""
            ),
            "{html}"
        );
        assert!(
            !html.contains("INTERNAL"),
            "internal notes never reach the customer"
        );
    }

    #[test]
    fn the_status_page_offers_the_form_its_status_allows() {
        let (mut ticket, entries) = ticket_with_timeline();
        let forms = |ticket: &Ticket| {
            let (_, _, html) = html_of(status(
                Lang::ZhCn,
                "tok",
                ticket,
                &entries,
                reply_form(&AttachmentPolicy::default()),
            ));
            assert!(
                html.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
                "{html}"
            );
            let names: BTreeSet<String> = html
                .split(" name=\"")
                .skip(1)
                .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
                .filter(|name| name != "viewport")
                .collect();
            let actions: Vec<&str> = html
                .split(" action=\"")
                .skip(1)
                .map(|rest| &rest[..rest.find('"').unwrap()])
                .collect();
            (names, actions.join(" "), html.clone())
        };

        let (names, actions, html) = forms(&ticket);
        assert_eq!(
            names,
            BTreeSet::from(["text".to_owned(), "files".to_owned()])
        );
        assert!(html.contains("enctype=\"multipart/form-data\""));
        assert_eq!(actions, "/c/t/tok/message?lang=zh-CN");
        assert!(html.contains("处理中") && html.contains("客服团队") && html.contains("您 · "));

        ticket.status = Status::Resolved;
        let (names, actions, html) = forms(&ticket);
        assert_eq!(names, BTreeSet::from(["score".into(), "comment".into()]));
        assert_eq!(actions, "/c/t/tok/csat?lang=zh-CN");
        assert!(html.contains(
            "<select name=\"score\"><option>5</option><option>4</option><option>3</option>\
             <option>2</option><option>1</option></select>"
        ));

        ticket.csat = Some(Csat {
            score: 5,
            comment: None,
            at: ticket.created_at,
        });
        let (names, _, _) = forms(&ticket);
        assert_eq!(
            names,
            BTreeSet::from(["text".to_owned(), "files".to_owned()]),
            "rated: the message form is back"
        );
        ticket.status = Status::Closed;
        let (names, actions, _) = forms(&ticket);
        assert!(
            names.is_empty() && actions.is_empty(),
            "a closed, rated ticket takes nothing"
        );
    }

    #[test]
    fn the_new_ticket_form_escapes_its_message_and_keeps_its_fields() {
        let typed = FormFields {
            subject: HOSTILE[0],
            description: HOSTILE[2],
            name: "Li Wei",
            contact: HOSTILE[1],
            account_id: "",
        };
        for lang in [Lang::En, Lang::ZhCn] {
            let (status, headers, html) = html_of(new_ticket(
                StatusCode::BAD_REQUEST,
                lang,
                Some(HOSTILE[1]),
                typed,
                &Branding::default(),
                &AttachmentPolicy::default(),
            ));
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_only_page_markup(&html);
            assert!(html
                .contains("<p role=\"alert\">&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;</p>"));
            let t = lang.text();
            // Every field comes back as typed (escaped), with outpost-core's limits.
            let expected = format!(
                "<form method=\"post\" action=\"/c/new?lang={tag}\" enctype=\"multipart/form-data\">\
                 <label>{}<input name=\"subject\" required maxlength=\"500\" value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></label>\
                 <label>{}<textarea name=\"description\" required>{}</textarea></label>\
                 <label>{}<input name=\"name\" required maxlength=\"200\" value=\"Li Wei\"></label>\
                 <label>{}<input name=\"contact\" required maxlength=\"254\" value=\"&quot;'&gt;&lt;img src=x onerror=alert(2)&gt;\"></label>\
                 <label>{}<input name=\"account_id\" maxlength=\"128\" value=\"\"></label>\
                 <label>{}<input type=\"file\" name=\"files\" multiple accept=\"{accept}\"></label>\
                 <p class=\"meta\">{}</p>\
                 <button type=\"submit\">{}</button></form>",
                t.subject,
                t.description,
                "&lt;/textarea&gt;&lt;svg onload=alert(3)&gt;",
                t.name,
                t.contact,
                t.account,
                t.files,
                match lang {
                    Lang::En => "PDF, JPEG, PNG; up to 5 MiB each, at most 10 files.",
                    Lang::ZhCn => "支持 PDF, JPEG, PNG；每个文件不超过 5 MiB，最多 10 个。",
                },
                t.submit,
                tag = lang.tag(),
                accept = ".pdf,application/pdf,.jpg,.jpeg,.jpe,.jfif,image/jpeg,.png,image/png",
            );
            assert!(html.contains(&expected), "{html}");
            assert!(html.contains(&format!("<title>{0}</title>", t.title_new)));
        }
        let (_, _, html) = html_of(new_ticket(
            StatusCode::OK,
            Lang::En,
            None,
            FormFields::default(),
            &Branding::default(),
            &AttachmentPolicy::default(),
        ));
        assert!(!html.contains("role=\"alert\""));
    }

    #[test]
    fn the_form_wears_the_organisations_branding_and_nothing_else() {
        let branding = Branding {
            title: Some(HOSTILE[0]),
            organisation: Some("Acme"),
            accent: "#0a7d3b",
            logo: true,
            promise_hours: Some(8),
        };
        let (_, headers, html) = html_of(new_ticket(
            StatusCode::OK,
            Lang::ZhCn,
            None,
            FormFields::default(),
            &branding,
            &AttachmentPolicy::default(),
        ));
        assert_only_page_markup(&html);
        assert!(headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("img-src 'self'"));
        assert!(html.contains("<style>:root{--accent:#0a7d3b}</style>"));
        assert!(html.contains("<img class=\"logo\" src=\"/c/logo.png\" alt=\"标志\">"));
        assert!(html.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
        assert!(html.contains("我们将在 8 小时内答复。"));
        // A colour that is not #rrggbb never reaches the style sheet.
        for hostile in ["red}body{display:none", "#0a7d3b</style><script>", "url(x)"] {
            let (_, _, html) = html_of(new_ticket(
                StatusCode::OK,
                Lang::En,
                None,
                FormFields::default(),
                &Branding {
                    accent: hostile,
                    ..Branding::default()
                },
                &AttachmentPolicy::default(),
            ));
            assert!(!html.contains(":root"), "{hostile}");
            assert!(!html.contains("<img"));
        }
    }

    #[test]
    fn the_customers_files_are_listed_escaped_and_nobody_elses() {
        let (ticket, mut entries) = ticket_with_timeline();
        let file = |author: Option<Uuid>, name: &str, id: u128| Entry {
            id: Uuid::now_v7(),
            ticket_id: ticket.id,
            author,
            body: EntryBody::Attachment {
                attachment_id: Uuid::from_u128(id),
                filename: name.into(),
                mime: "application/pdf".into(),
                size: 5 * 1024 * 1024,
                sha256: "0a".repeat(32),
            },
            created_at: ticket.created_at,
        };
        entries.push(file(None, "<script>alert(7)</script>.pdf", 1));
        entries.push(file(Some(Uuid::from_u128(9)), "INTERNAL scan.pdf", 2));
        let policy = AttachmentPolicy::default();
        let form = ReplyForm {
            status: StatusCode::BAD_REQUEST,
            policy: &policy,
            message: Some(HOSTILE[0]),
            text: HOSTILE[2],
        };
        let (status, _, html) = html_of(status(Lang::En, "tok", &ticket, &entries, form));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_only_page_markup(&html);
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains(
                "<li><a href=\"/c/t/tok/files/00000000-0000-0000-0000-000000000001\">\
                 &lt;script&gt;alert(7)&lt;/script&gt;.pdf</a> · 5 MiB</li>"
            ),
            "{html}"
        );
        assert!(!html.contains("INTERNAL"), "an agent's file is not listed");
        assert!(html.contains("<p role=\"alert\">&lt;script&gt;alert(1)&lt;/script&gt;</p>"));
        assert!(
            html.contains("<textarea name=\"text\" required>&lt;/textarea&gt;&lt;svg onload=alert(3)&gt;</textarea>"),
            "the customer's text comes back: {html}"
        );
    }

    #[test]
    fn a_refused_file_is_named_in_the_pages_language() {
        let policy = AttachmentPolicy::default();
        let refusal = |problem| UploadError::File {
            filename: "invoice.pdf".into(),
            problem,
            message: String::new(),
        };
        let contradicts = refusal(FileProblem::NameContradicts {
            actual: FileType::Png,
        });
        assert_eq!(
            upload_refusal(Lang::En, &policy, &contradicts),
            "“invoice.pdf” is named like another kind of file, but its content is a PNG image; \
             attach the right file or correct its name."
        );
        assert_eq!(
            upload_refusal(Lang::ZhCn, &policy, &contradicts),
            "“invoice.pdf”的文件名与内容不符：内容是PNG 图片。请附上正确的文件或更正文件名。"
        );
        let big = refusal(FileProblem::TooLarge {
            limit: 5 * 1024 * 1024,
        });
        assert_eq!(
            upload_refusal(Lang::ZhCn, &policy, &big),
            "“invoice.pdf”超过 5 MiB，每个文件不能超过 5 MiB。"
        );
        assert_eq!(
            upload_refusal(Lang::En, &policy, &refusal(FileProblem::UnknownKind)),
            "“invoice.pdf” is not a kind of file we accept (PDF, JPEG, PNG); programs, scripts \
             and web pages are never accepted."
        );
        assert_eq!(
            upload_refusal(Lang::ZhCn, &policy, &UploadError::TooMany { limit: 10 }),
            "每条消息最多附 10 个文件。"
        );
    }

    #[test]
    fn the_forms_language_falls_back_to_the_organisations() {
        let mut headers = HeaderMap::new();
        assert_eq!(pick_lang_or(None, &headers, Lang::ZhCn), Lang::ZhCn);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr-FR,fr"),
        );
        assert_eq!(pick_lang_or(None, &headers, Lang::ZhCn), Lang::ZhCn);
        assert_eq!(pick_lang_or(Some("en"), &headers, Lang::ZhCn), Lang::En);
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-GB"));
        assert_eq!(pick_lang_or(None, &headers, Lang::ZhCn), Lang::En);
    }

    #[test]
    fn notices_are_their_escaped_title_and_nothing_else() {
        let (status, _, html) = html_of(notice(StatusCode::OK, Lang::En, HOSTILE[0]));
        assert_eq!(status, StatusCode::OK);
        assert_only_page_markup(&html);
        assert!(
            html.ends_with("<body><h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1></body></html>")
        );
        let (status, _, html) = html_of(not_found(Lang::ZhCn));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("<h1>链接无效。</h1>"));
    }

    #[test]
    fn the_language_follows_the_query_then_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static(" zh-CN,en;q=0.8"),
        );
        assert_eq!(pick_lang(None, &headers), Lang::ZhCn);
        assert_eq!(pick_lang(Some("en"), &headers), Lang::En);
        assert_eq!(pick_lang(None, &HeaderMap::new()), Lang::En);
        assert_eq!(Lang::from_tag("zh-TW").tag(), "zh-CN");
    }
}
