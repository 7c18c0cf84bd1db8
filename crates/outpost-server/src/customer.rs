//! The customer's pages: submit a ticket, follow it through an unguessable link, reply, and rate
//! the resolution. Server-rendered HTML with no JavaScript at all (the CSP forbids scripts), every
//! customer-supplied string escaped, in English and Simplified Chinese.
//!
//! An adapter: a submission goes through the intake pipeline ([`crate::new_ticket`]); a message
//! and a rating are core intents (`customer.message`, `customer.csat`) applied through
//! [`crate::change`] as the `customer` origin, so `outpost_core::apply` decides them. A score at
//! or below [`LOW_SCORE`] reopens the ticket for second handling, back to its assignee (or, when
//! nobody holds it any more, to the agent who resolved it, if still active), with a revisit due
//! 24 hours after the rating. The satisfaction survey that invites the rating is sent by
//! `change` whenever a ticket is resolved, by any path.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use outpost_core::apply::{last_resolver, Rejection};
use outpost_core::model::{Channel, Entry, EntryBody, Status, Ticket};
use outpost_core::sync::Mutation;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::sha256_hex;
use crate::change::{apply_for, Origin};
use crate::error::ApiError;
use crate::new_ticket::{IntakeRequest, RequesterInput};
use crate::{AppState, ClientAddr};

pub use outpost_core::model::LOW_CSAT_SCORE as LOW_SCORE;
/// Web-form submissions allowed per address per minute.
const FORM_SUBMISSIONS_PER_MINUTE: u32 = 5;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Zh,
}

struct Text {
    title_new: &'static str,
    subject: &'static str,
    description: &'static str,
    name: &'static str,
    contact: &'static str,
    account: &'static str,
    submit: &'static str,
    ticket: &'static str,
    status: &'static str,
    keep_link: &'static str,
    conversation: &'static str,
    you: &'static str,
    team: &'static str,
    reply: &'static str,
    send: &'static str,
    rate: &'static str,
    rate_prompt: &'static str,
    comment: &'static str,
    thanks: &'static str,
    reopened: &'static str,
    not_found: &'static str,
    too_many: &'static str,
    invalid: &'static str,
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
    not_found: "This link is not valid.",
    too_many: "Too many submissions from your network; please wait a minute.",
    invalid: "Please fill in every required field.",
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
    not_found: "链接无效。",
    too_many: "提交过于频繁，请一分钟后再试。",
    invalid: "请填写所有必填项。",
};

fn status_label(status: Status, lang: Lang) -> &'static str {
    match (lang, status) {
        (Lang::En, Status::New | Status::Triaged) => "Received",
        (Lang::En, Status::Assigned | Status::InProgress) => "Being handled",
        (Lang::En, Status::Pending) => "Waiting for your reply",
        (Lang::En, Status::Resolved) => "Resolved",
        (Lang::En, Status::Closed) => "Closed",
        (Lang::Zh, Status::New | Status::Triaged) => "已受理",
        (Lang::Zh, Status::Assigned | Status::InProgress) => "处理中",
        (Lang::Zh, Status::Pending) => "等待您的回复",
        (Lang::Zh, Status::Resolved) => "已解决",
        (Lang::Zh, Status::Closed) => "已关闭",
    }
}

impl Lang {
    fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    fn from_tag(tag: &str) -> Lang {
        match outpost_core::Lang::from_tag(tag) {
            outpost_core::Lang::ZhCn => Lang::Zh,
            outpost_core::Lang::En => Lang::En,
        }
    }

    /// `?lang=` wins, then the browser's first preference.
    fn pick(query: Option<&str>, headers: &HeaderMap) -> Lang {
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Lang::from_tag(query.unwrap_or(accept.trim_start()))
    }
}

/// A complete page. No scripts are allowed to run, whatever a ticket contains.
fn page(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font:15px/1.5 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;\
         max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}}label{{display:block;margin-top:.8rem}}\
         input,textarea,select{{width:100%;padding:.4rem;font:inherit}}textarea{{min-height:8rem}}\
         button{{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}}.entry{{border-left:3px solid #ccd;padding:.2rem .8rem;margin:.8rem 0;white-space:pre-wrap}}\
         .team{{border-color:#4a7}}.meta{{color:#667;font-size:13px}}</style></head><body><h1>{title}</h1>{body}</body></html>",
        lang = lang.tag(),
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
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

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn new_form(lang: Lang, message: Option<&str>) -> String {
    let t = lang.text();
    let error = message
        .map(|m| format!("<p role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    format!(
        "{error}<form method=\"post\" action=\"/c/new?lang={tag}\">\
         <label>{subject}<input name=\"subject\" required maxlength=\"500\"></label>\
         <label>{description}<textarea name=\"description\" required></textarea></label>\
         <label>{name}<input name=\"name\" required></label>\
         <label>{contact}<input name=\"contact\" required></label>\
         <label>{account}<input name=\"account_id\"></label>\
         <button type=\"submit\">{submit}</button></form>",
        tag = lang.tag(),
        subject = t.subject,
        description = t.description,
        name = t.name,
        contact = t.contact,
        account = t.account,
        submit = t.submit,
    )
}

pub async fn new_ticket_form(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    page(
        StatusCode::OK,
        lang,
        lang.text().title_new,
        &new_form(lang, None),
    )
}

#[derive(Deserialize)]
pub struct NewTicketForm {
    subject: String,
    description: String,
    name: String,
    contact: String,
    #[serde(default)]
    account_id: String,
}

pub async fn submit_ticket(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<NewTicketForm>,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let t = lang.text();
    let key = format!("form:{}", address.as_deref().unwrap_or("unknown"));
    if !state.limiter.allowed(&key, FORM_SUBMISSIONS_PER_MINUTE) {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            t.title_new,
            &new_form(lang, Some(t.too_many)),
        );
    }
    state.limiter.record_failure(&key);
    if [&form.subject, &form.description, &form.name, &form.contact]
        .iter()
        .any(|f| f.trim().is_empty())
    {
        return page(
            StatusCode::BAD_REQUEST,
            lang,
            t.title_new,
            &new_form(lang, Some(t.invalid)),
        );
    }
    let request = IntakeRequest {
        subject: form.subject,
        description: form.description,
        requester: RequesterInput {
            name: form.name,
            contact: form.contact,
            account_id: Some(form.account_id).filter(|a| !a.trim().is_empty()),
            tier: None,
        },
        language: None,
        business_type: None,
        tags: Vec::new(),
    };
    match crate::new_ticket::create(
        &state,
        Channel::WebForm,
        "customer:web_form",
        address.as_deref(),
        request,
    )
    .await
    {
        Ok(created) => {
            Redirect::to(&format!("{}?lang={}", created.status_path, lang.tag())).into_response()
        }
        Err(ApiError::BadRequest(reason)) => page(
            StatusCode::BAD_REQUEST,
            lang,
            t.title_new,
            &new_form(lang, Some(&reason)),
        ),
        Err(e) => e.into_response(),
    }
}

/// The ticket behind a customer link, or `None` for an unknown token.
async fn ticket_for(
    state: &AppState,
    token: &str,
) -> Result<Option<(Ticket, Vec<Entry>)>, ApiError> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT ticket_id FROM customer_links WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .fetch_optional(&state.db.pool)
            .await?;
    let Some(id) = id else { return Ok(None) };
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM tickets WHERE id = $1")
        .bind(&id)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(doc) = doc else { return Ok(None) };
    let docs: Vec<String> =
        sqlx::query_scalar("SELECT doc FROM entries WHERE ticket_id = $1 ORDER BY seq")
            .bind(&id)
            .fetch_all(&state.db.pool)
            .await?;
    let ticket = serde_json::from_str(&doc).map_err(anyhow::Error::from)?;
    let entries = docs
        .iter()
        .map(|d| serde_json::from_str(d))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::from)?;
    Ok(Some((ticket, entries)))
}

fn not_found(lang: Lang) -> Response {
    page(StatusCode::NOT_FOUND, lang, lang.text().not_found, "")
}

pub async fn status_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let fallback = Lang::pick(q.lang.as_deref(), &headers);
    let (ticket, entries) = match ticket_for(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(fallback),
        Err(e) => return e.into_response(),
    };
    let lang = q
        .lang
        .as_deref()
        .map_or(Lang::from_tag(&ticket.language), Lang::from_tag);
    let t = lang.text();
    let mut body = format!(
        "<p class=\"meta\">{ticket_label} {key} · {status_label}: <strong>{status}</strong></p><p>{keep}</p>\
         <h2>{subject}</h2><div class=\"entry\">{description}</div><h2>{conversation}</h2>",
        ticket_label = t.ticket,
        key = escape(ticket.key.as_deref().unwrap_or("")),
        status_label = t.status,
        status = status_label(ticket.status, lang),
        keep = t.keep_link,
        subject = escape(&ticket.subject),
        description = escape(&ticket.description),
        conversation = t.conversation,
    );
    // Internal notes, events, verification records and risk actions never reach this page.
    for entry in &entries {
        let (who, class, text) = match &entry.body {
            EntryBody::CustomerMessage { text } => (t.you, "entry", text),
            EntryBody::Reply { text } => (t.team, "entry team", text),
            _ => continue,
        };
        body.push_str(&format!(
            "<div class=\"{class}\"><span class=\"meta\">{who} · {at}</span>\n{text}</div>",
            at = entry.created_at.format("%Y-%m-%d %H:%M UTC"),
            text = escape(text),
        ));
    }
    let path = format!("/c/t/{}", escape(&token));
    if matches!(ticket.status, Status::Resolved | Status::Closed) && ticket.csat.is_none() {
        body.push_str(&format!(
            "<h2>{rate}</h2><form method=\"post\" action=\"{path}/csat?lang={tag}\"><label>{prompt}\
             <select name=\"score\">{options}</select></label><label>{comment}<textarea name=\"comment\"></textarea></label>\
             <button type=\"submit\">{send}</button></form>",
            rate = t.rate,
            tag = lang.tag(),
            prompt = t.rate_prompt,
            options = (1..=5).rev().map(|n| format!("<option>{n}</option>")).collect::<String>(),
            comment = t.comment,
            send = t.send,
        ));
    } else if ticket.status != Status::Closed {
        body.push_str(&format!(
            "<form method=\"post\" action=\"{path}/message?lang={tag}\"><label>{reply}<textarea name=\"text\" required></textarea></label>\
             <button type=\"submit\">{send}</button></form>",
            tag = lang.tag(),
            reply = t.reply,
            send = t.send,
        ));
    }
    page(
        StatusCode::OK,
        lang,
        &format!("{} {}", t.ticket, ticket.key.as_deref().unwrap_or("")),
        &body,
    )
}

/// Applies a customer intent to their ticket in its own transaction, as the `customer` origin.
/// A refusal (a closed ticket, a second rating) answers the "invalid" page.
async fn customer_change(
    state: &AppState,
    address: Option<&str>,
    mutation: Mutation,
) -> Result<Result<(), Rejection>, ApiError> {
    let mut tx = state.db.begin_write().await?;
    let origin = Origin::Server {
        actor: "customer",
        address,
    };
    if let Err(rejection) = apply_for(state, &mut tx, origin, mutation).await? {
        return Ok(Err(rejection));
    }
    tx.commit().await?;
    state.notify_changed().await;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct MessageForm {
    text: String,
}

pub async fn post_message(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<MessageForm>,
) -> Response {
    let lang = Lang::pick(q.lang.as_deref(), &headers);
    let Ok(Some((ticket, _))) = ticket_for(&state, &token).await else {
        return not_found(lang);
    };
    let text = form.text.trim().to_owned();
    let message = Mutation::CustomerMessage {
        ticket_id: ticket.id,
        entry_id: Uuid::now_v7(),
        text,
    };
    match customer_change(&state, address.as_deref(), message).await {
        Ok(Ok(())) => Redirect::to(&format!("/c/t/{token}?lang={}", lang.tag())).into_response(),
        Ok(Err(_)) => page(StatusCode::BAD_REQUEST, lang, lang.text().invalid, ""),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsatForm {
    score: u8,
    #[serde(default)]
    comment: String,
}

pub async fn post_csat(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<CsatForm>,
) -> Response {
    let Ok(Some((ticket, entries))) = ticket_for(&state, &token).await else {
        return not_found(Lang::pick(q.lang.as_deref(), &headers));
    };
    // Like the status page: `?lang=` wins, otherwise the ticket's language.
    let lang = q
        .lang
        .as_deref()
        .map_or(Lang::from_tag(&ticket.language), Lang::from_tag);
    let t = lang.text();
    let score = form.score;
    // A low score reopens the ticket; when nobody holds it any more it goes back to the agent
    // who resolved it, if they are still active (otherwise to triage).
    let mut return_to = None;
    if score <= LOW_SCORE && ticket.assignee.is_none() {
        if let Some(agent) = last_resolver(&entries) {
            match crate::users::load(&state.db.pool, agent).await {
                Ok(Some(user)) if user.active => return_to = Some(agent),
                Ok(_) => {}
                Err(e) => return ApiError::Internal(e).into_response(),
            }
        }
    }
    let rating = Mutation::CustomerRating {
        ticket_id: ticket.id,
        score,
        comment: Some(form.comment),
        return_to,
    };
    match customer_change(&state, address.as_deref(), rating).await {
        Ok(Ok(())) => page(
            StatusCode::OK,
            lang,
            if score <= LOW_SCORE {
                t.reopened
            } else {
                t.thanks
            },
            "",
        ),
        Ok(Err(_)) => page(StatusCode::BAD_REQUEST, lang, t.invalid, ""),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_neutralises_markup_and_attribute_breakouts() {
        assert_eq!(
            escape(r#"<img src=x onerror='a'> & "q""#),
            "&lt;img src=x onerror=&#39;a&#39;&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("退款 refund"), "退款 refund");
    }
}
