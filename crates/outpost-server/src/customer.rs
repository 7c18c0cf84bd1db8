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

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use outpost_core::apply::{check_new_ticket_text, last_resolver, Rejection};
use outpost_core::model::{Channel, CustomerTier, Entry, Requester, Ticket};
use outpost_core::settings::OrgProfile;
use outpost_core::sync::Mutation;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::sha256_hex;
use crate::change::{apply_for, Origin};
use crate::error::ApiError;
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
                (axum::http::header::CONTENT_TYPE, "image/png"),
                (axum::http::header::CACHE_CONTROL, "no-cache"),
                (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
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

pub async fn submit_ticket(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    Form(form): Form<NewTicketForm>,
) -> Response {
    let profile = match form_settings(&state).await {
        Ok(profile) => profile,
        Err(e) => return e.into_response(),
    };
    let lang = form_lang(&q, &headers, &profile);
    let branding = branding(&profile);
    let t = lang.text();
    let filled = pages::FormFields {
        subject: &form.subject,
        description: &form.description,
        name: &form.name,
        contact: &form.contact,
        account_id: &form.account_id,
    };
    let key = format!("form:{}", address.as_deref().unwrap_or("unknown"));
    // Checked and counted in one step, so concurrent submissions cannot all pass.
    let Some(_counted) = state
        .limiter
        .try_reserve(&[&key], FORM_SUBMISSIONS_PER_MINUTE)
    else {
        return pages::new_ticket(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            Some(t.too_many),
            filled,
            &branding,
        );
    };
    if [&form.subject, &form.description, &form.name, &form.contact]
        .iter()
        .any(|f| f.trim().is_empty())
    {
        return pages::new_ticket(
            StatusCode::BAD_REQUEST,
            lang,
            Some(t.invalid),
            filled,
            &branding,
        );
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
        return pages::new_ticket(
            StatusCode::BAD_REQUEST,
            lang,
            Some(&message),
            filled,
            &branding,
        );
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
        Err(ApiError::BadRequest(_)) => pages::new_ticket(
            StatusCode::BAD_REQUEST,
            lang,
            Some(t.invalid),
            filled,
            &branding,
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
    pages::status(lang, &token, &ticket, &entries)
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
    form: Result<Form<MessageForm>, FormRejection>,
) -> Response {
    let lang = pick_lang(q.lang.as_deref(), &headers);
    let Ok(Some((ticket, _))) = ticket_for(&state, &token).await else {
        return not_found(lang);
    };
    // Read after the link check: without a link there is no page, whatever the form says.
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return rejection.into_response(),
    };
    let text = form.text.trim().to_owned();
    let message = Mutation::CustomerMessage {
        ticket_id: ticket.id,
        entry_id: Uuid::now_v7(),
        text,
    };
    match customer_change(&state, address.as_deref(), message).await {
        Ok(Ok(())) => Redirect::to(&format!("/c/t/{token}?lang={}", lang.tag())).into_response(),
        Ok(Err(_)) => notice(StatusCode::BAD_REQUEST, lang, lang.text().invalid),
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
    match customer_change(&state, address.as_deref(), rating).await {
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
