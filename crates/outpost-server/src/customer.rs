//! The customer's pages: submit a ticket, follow it through an unguessable link, reply, and rate
//! the resolution. These are the handlers and their form handling; the HTML (no JavaScript, every
//! customer-supplied string escaped, English and Simplified Chinese) is rendered in `pages.rs`.
//!
//! An adapter: a submission goes through the intake pipeline ([`crate::new_ticket`]); a message
//! and a rating are core intents (`customer.message`, `customer.csat`) applied through
//! [`crate::change`] as the `customer` origin, so `outpost_core::apply` decides them. A score at
//! or below [`LOW_SCORE`] reopens the ticket for second handling, back to its assignee (or, when
//! nobody holds it any more, to the agent who resolved it, if still active), with a revisit due
//! 24 hours after the rating. The satisfaction survey that invites the rating is sent by
//! `change` whenever a ticket is resolved, by any path; `change` also makes sure a resolution is
//! rated once, however many ratings arrive at the same moment.
//!
//! The form and the message form also take files (`multipart/form-data`, [`crate::multipart`]):
//! each is checked against the organisation's policy by its bytes and streamed into the blob
//! store, then becomes an `entry.add_attachment` of the customer in the same transaction as the
//! ticket or the message. A refused file re-renders the page with the customer's text and a
//! sentence naming the file; whatever was stored for that request is discarded. The
//! url-encoded posts of older pages still work. The status page lists the customer's files,
//! downloadable only through the ticket's link.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use outpost_core::apply::{check_new_ticket_text, last_resolver, Rejection};
use outpost_core::files::AttachmentPolicy;
use outpost_core::model::{Channel, CustomerTier, Entry, EntryBody, Requester, Ticket};
use outpost_core::settings::OrgProfile;
use outpost_core::sync::Mutation;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::sha256_hex;
use crate::change::{apply_for, Origin};
use crate::customer_uploads::{self, CustomerFile, StoredFiles};
use crate::error::ApiError;
use crate::multipart::{self, UploadError};
use crate::new_ticket::{IntakeRequest, RequesterInput};
use crate::pages::{self, not_found, notice, pick_lang, pick_lang_or, Lang, PageLang};
use crate::{AppState, ClientAddr};

pub use outpost_core::model::LOW_CSAT_SCORE as LOW_SCORE;
/// Web-form submissions allowed per address per minute.
const FORM_SUBMISSIONS_PER_MINUTE: u32 = 5;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The organisation's form settings (title, colour, logo, language, promise), read per request
/// so a change shows at once on every instance.
async fn form_settings(state: &AppState) -> Result<OrgProfile, ApiError> {
    Ok(crate::settings_docs::load_from(&state.db.pool)
        .await?
        .profile()
        .clone())
}

fn branding(profile: &OrgProfile) -> pages::Branding<'_> {
    let form = &profile.form;
    pages::Branding {
        title: Some(form.title.as_str()).filter(|t| !t.is_empty()),
        organisation: Some(profile.name.as_str()),
        accent: &form.accent_colour,
        logo: form.logo_png_base64.is_some(),
        promise_hours: form.response_promise_hours,
    }
}

/// The form's language: `?lang=`, then the browser's, then the organisation's default.
fn form_lang(q: &LangQuery, headers: &HeaderMap, profile: &OrgProfile) -> Lang {
    let default = Lang::from_tag(&profile.form.default_language);
    pick_lang_or(q.lang.as_deref(), headers, default)
}

pub async fn new_ticket_form(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let profile = match form_settings(&state).await {
        Ok(profile) => profile,
        Err(e) => return e.into_response(),
    };
    let lang = form_lang(&q, &headers, &profile);
    pages::new_ticket(
        StatusCode::OK,
        lang,
        None,
        pages::FormFields::default(),
        &branding(&profile),
        &profile.attachments,
    )
}

/// `GET /c/logo.png`: the organisation's logo for its form (a PNG, checked when it was set).
pub async fn logo(State(state): State<AppState>) -> Response {
    use base64::Engine;
    let profile = match form_settings(&state).await {
        Ok(profile) => profile,
        Err(e) => return e.into_response(),
    };
    let png = profile
        .form
        .logo_png_base64
        .as_deref()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    match png {
        Some(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            png,
        )
            .into_response(),
        None => ApiError::NotFound("logo").into_response(),
    }
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

impl NewTicketForm {
    fn from_fields(field: impl Fn(&str) -> String) -> NewTicketForm {
        NewTicketForm {
            subject: field("subject"),
            description: field("description"),
            name: field("name"),
            contact: field("contact"),
            account_id: field("account_id"),
        }
    }
}

/// Whether the request's declared body is larger than any message under `policy` could be.
fn declared_too_large(headers: &HeaderMap, policy: &AttachmentPolicy) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > multipart::body_limit(policy))
}

pub async fn submit_ticket(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let profile = match form_settings(&state).await {
        Ok(profile) => profile,
        Err(e) => return e.into_response(),
    };
    let lang = form_lang(&q, &headers, &profile);
    let branding = branding(&profile);
    let policy = &profile.attachments;
    let t = lang.text();
    let refuse = |status: StatusCode, message: &str, form: &NewTicketForm| {
        let filled = pages::FormFields {
            subject: &form.subject,
            description: &form.description,
            name: &form.name,
            contact: &form.contact,
            account_id: &form.account_id,
        };
        pages::new_ticket(status, lang, Some(message), filled, &branding, policy)
    };
    let key = format!("form:{}", address.as_deref().unwrap_or("unknown"));
    // Checked and counted in one step, so concurrent submissions cannot all pass. Counted before
    // the body is read: a refused submission stores none of its files.
    let counted = state
        .limiter
        .try_reserve(&[&key], FORM_SUBMISSIONS_PER_MINUTE);
    let (form, files) = match multipart::boundary(&headers) {
        Some(boundary) => {
            let empty = NewTicketForm::from_fields(|_| String::new());
            if declared_too_large(&headers, policy) {
                return refuse(StatusCode::PAYLOAD_TOO_LARGE, t.form_too_large, &empty);
            }
            if counted.is_none() {
                // Nothing is stored; the text is read only to show it again.
                let fields =
                    customer_uploads::read_text(request.into_body(), boundary, policy).await;
                let form = NewTicketForm::from_fields(|n| fields.field(n).to_owned());
                return refuse(StatusCode::TOO_MANY_REQUESTS, t.too_many, &form);
            }
            match customer_uploads::read(&state, request.into_body(), boundary, policy).await {
                Ok((fields, files)) => (
                    NewTicketForm::from_fields(|n| fields.field(n).to_owned()),
                    files,
                ),
                Err(refusal) => {
                    let form = NewTicketForm::from_fields(|n| refusal.field(n).to_owned());
                    if let UploadError::Internal(e) = refusal.error {
                        return ApiError::Internal(e).into_response();
                    }
                    let status = upload_status(&refusal.error);
                    return refuse(
                        status,
                        &pages::upload_refusal(lang, policy, &refusal.error),
                        &form,
                    );
                }
            }
        }
        None => match Form::<NewTicketForm>::from_request(request, &state).await {
            Ok(Form(form)) => (form, StoredFiles::default()),
            Err(rejection) => return rejection.into_response(),
        },
    };
    let answer = submit(
        &state,
        address.as_deref(),
        lang,
        counted.is_some(),
        &form,
        &files,
    )
    .await;
    match answer {
        Ok(Ok(path)) => Redirect::to(&path).into_response(),
        Ok(Err((status, message))) => {
            files.discard(&state).await;
            refuse(status, &message, &form)
        }
        Err(e) => {
            files.discard(&state).await;
            e.into_response()
        }
    }
}

/// The status of a page that refuses a message with files.
fn upload_status(error: &UploadError) -> StatusCode {
    match error {
        UploadError::File {
            problem: multipart::FileProblem::TooLarge { .. },
            ..
        }
        | UploadError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UploadError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Checks a submission and creates its ticket with its files: the status page's path, or the
/// status and sentence to re-render the form with.
async fn submit(
    state: &AppState,
    address: Option<&str>,
    lang: Lang,
    counted: bool,
    form: &NewTicketForm,
    files: &StoredFiles,
) -> Result<Result<String, (StatusCode, String)>, ApiError> {
    let t = lang.text();
    if !counted {
        return Ok(Err((StatusCode::TOO_MANY_REQUESTS, t.too_many.into())));
    }
    if [&form.subject, &form.description, &form.name, &form.contact]
        .iter()
        .any(|f| f.trim().is_empty())
    {
        return Ok(Err((StatusCode::BAD_REQUEST, t.invalid.into())));
    }
    let requester = Requester {
        name: form.name.trim().to_owned(),
        contact: form.contact.trim().to_owned(),
        account_id: Some(form.account_id.trim().to_owned()).filter(|a| !a.is_empty()),
        tier: CustomerTier::Standard,
    };
    // The core's checks, run first so the refusal names the field in the customer's language.
    if let Err(Rejection::Invalid { field, .. }) =
        check_new_ticket_text(&form.subject, &form.description, &requester)
    {
        let message = t.check_field.replace("{}", t.field_label(&field));
        return Ok(Err((StatusCode::BAD_REQUEST, message)));
    }
    let request = IntakeRequest {
        subject: form.subject.clone(),
        description: form.description.clone(),
        requester: RequesterInput {
            name: requester.name,
            contact: requester.contact,
            account_id: requester.account_id,
            tier: None,
        },
        language: None,
        business_type: None,
        tags: Vec::new(),
    };
    match crate::new_ticket::create(
        state,
        Channel::WebForm,
        "customer:web_form",
        address,
        request,
        &files.attachments(),
    )
    .await
    {
        Ok(created) => Ok(Ok(format!("{}?lang={}", created.status_path, lang.tag()))),
        Err(ApiError::BadRequest(_)) => Ok(Err((StatusCode::BAD_REQUEST, t.invalid.into()))),
        Err(e) => Err(e),
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

pub async fn status_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let fallback = pick_lang(q.lang.as_deref(), &headers);
    let (ticket, entries) = match ticket_for(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(fallback),
        Err(e) => return e.into_response(),
    };
    let lang = q
        .lang
        .as_deref()
        .map_or(Lang::from_tag(&ticket.language), Lang::from_tag);
    let profile = match form_settings(&state).await {
        Ok(profile) => profile,
        Err(e) => return e.into_response(),
    };
    let form = pages::ReplyForm {
        status: StatusCode::OK,
        policy: &profile.attachments,
        message: None,
        text: "",
    };
    pages::status(lang, &token, &ticket, &entries, form)
}

/// `GET /c/t/{token}/files/{attachment_id}`: one of the customer's files on their ticket (see
/// [`pages::customer_files`]), as a download nothing renders. Any other file, a redacted one,
/// or a wrong link is "not found".
pub async fn download(
    State(state): State<AppState>,
    Path((token, attachment)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = pick_lang(q.lang.as_deref(), &headers);
    let Ok(attachment) = attachment.parse::<Uuid>() else {
        return not_found(lang);
    };
    let (_, entries) = match ticket_for(&state, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(lang),
        Err(e) => return e.into_response(),
    };
    let file = entries.iter().find_map(|entry| match &entry.body {
        EntryBody::Attachment {
            attachment_id,
            filename,
            sha256,
            ..
        } if *attachment_id == attachment
            && pages::customer_files(std::slice::from_ref(entry))
                .next()
                .is_some() =>
        {
            Some((sha256.clone(), filename.clone()))
        }
        _ => None,
    });
    let Some((sha256, filename)) = file else {
        return not_found(lang);
    };
    match customer_uploads::send_file(&state, &sha256, &filename).await {
        Ok(Some(response)) => response,
        Ok(None) => not_found(lang),
        Err(e) => e.into_response(),
    }
}

/// Applies customer intents to their ticket in one transaction, as the `customer` origin.
/// A refusal (a closed ticket, a second rating) answers the "invalid" page.
async fn customer_change(
    state: &AppState,
    address: Option<&str>,
    mutations: Vec<Mutation>,
) -> Result<Result<(), Rejection>, ApiError> {
    let mut tx = state.db.begin_write().await?;
    let origin = Origin::Server {
        actor: "customer",
        address,
    };
    for mutation in mutations {
        if let Err(rejection) = apply_for(state, &mut tx, origin, mutation).await? {
            return Ok(Err(rejection));
        }
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
    request: Request,
) -> Response {
    let lang = pick_lang(q.lang.as_deref(), &headers);
    let Ok(Some((ticket, entries))) = ticket_for(&state, &token).await else {
        return not_found(lang);
    };
    // Read after the link check: without a link there is no page, whatever the form says.
    let (text, files) = match multipart::boundary(&headers) {
        Some(boundary) => {
            let profile = match form_settings(&state).await {
                Ok(profile) => profile,
                Err(e) => return e.into_response(),
            };
            let policy = &profile.attachments;
            let refuse = |status: StatusCode, message: &str, text: &str| {
                let form = pages::ReplyForm {
                    status,
                    policy,
                    message: Some(message),
                    text,
                };
                pages::status(lang, &token, &ticket, &entries, form)
            };
            if declared_too_large(&headers, policy) {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    lang.text().form_too_large,
                    "",
                );
            }
            match customer_uploads::read(&state, request.into_body(), boundary, policy).await {
                Ok((fields, files)) => (fields.field("text").to_owned(), files),
                Err(refusal) => {
                    if let UploadError::Internal(e) = refusal.error {
                        return ApiError::Internal(e).into_response();
                    }
                    let message = pages::upload_refusal(lang, policy, &refusal.error);
                    return refuse(
                        upload_status(&refusal.error),
                        &message,
                        refusal.field("text"),
                    );
                }
            }
        }
        None => match Form::<MessageForm>::from_request(request, &state).await {
            Ok(Form(form)) => (form.text, StoredFiles::default()),
            Err(rejection) => return rejection.into_response(),
        },
    };
    let text = text.trim().to_owned();
    // A message with files may have no text; without files, an empty text is refused by the core.
    let mut mutations = Vec::new();
    if !text.is_empty() || files.is_empty() {
        mutations.push(Mutation::CustomerMessage {
            ticket_id: ticket.id,
            entry_id: Uuid::now_v7(),
            text,
        });
    }
    mutations.extend(
        files
            .attachments()
            .into_iter()
            .map(|file: CustomerFile| file.mutation(ticket.id)),
    );
    match customer_change(&state, address.as_deref(), mutations).await {
        Ok(Ok(())) => Redirect::to(&format!("/c/t/{token}?lang={}", lang.tag())).into_response(),
        Ok(Err(_)) => {
            files.discard(&state).await;
            notice(StatusCode::BAD_REQUEST, lang, lang.text().invalid)
        }
        Err(e) => {
            files.discard(&state).await;
            e.into_response()
        }
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
    form: Result<Form<CsatForm>, FormRejection>,
) -> Response {
    let Ok(Some((ticket, entries))) = ticket_for(&state, &token).await else {
        return not_found(pick_lang(q.lang.as_deref(), &headers));
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return rejection.into_response(),
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
    match customer_change(&state, address.as_deref(), vec![rating]).await {
        Ok(Ok(())) => notice(
            StatusCode::OK,
            lang,
            if score <= LOW_SCORE {
                t.reopened
            } else {
                t.thanks
            },
        ),
        // Refused: say so plainly when the ticket has its rating (perhaps from a rating sent at
        // the same moment, which the database let through first).
        Ok(Err(_)) => match rated(&state, ticket.id).await {
            Ok(true) => notice(StatusCode::BAD_REQUEST, lang, t.rated_already),
            Ok(false) => notice(StatusCode::BAD_REQUEST, lang, t.invalid),
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}

/// Whether the customer has rated `ticket`: the rating on the ticket, or a row in
/// `csat_ratings` (the one per resolution that `change` claims).
async fn rated(state: &AppState, ticket: Uuid) -> Result<bool, ApiError> {
    let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM tickets WHERE id = $1")
        .bind(ticket.to_string())
        .fetch_optional(&state.db.pool)
        .await?;
    if let Some(doc) = doc {
        let current: Ticket = serde_json::from_str(&doc).map_err(anyhow::Error::from)?;
        if current.csat.is_some() {
            return Ok(true);
        }
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM csat_ratings WHERE ticket_id = $1")
        .bind(ticket.to_string())
        .fetch_one(&state.db.pool)
        .await?;
    Ok(rows > 0)
}
