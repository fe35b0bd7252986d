//! The language of texts in a response: `?lang`, else `Accept-Language`, else zh.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::HttpRequest;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::playbook::Lang;

/// Language of the texts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// `zh` (the source language, default) or `en`; overrides `Accept-Language`.
    pub lang: Option<Lang>,
}

/// `?lang`, else `Accept-Language`, else zh.
pub fn pick_lang(asked: Option<Lang>, req: &HttpRequest) -> Lang {
    asked
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// The language of a response to `req`: its `lang` query parameter when that is `zh` or `en`,
/// else `Accept-Language`, else zh. For texts outside a handler (problem documents).
pub fn request_lang(req: &HttpRequest) -> Lang {
    let asked = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v));
    pick_lang(asked, req)
}

/// Middleware (use with `actix_web::middleware::from_fn`): every operation takes `lang`, so a
/// value other than `zh` or `en` is refused everywhere (422 naming it), also where the handler
/// reads no query.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let bad = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "lang" && Lang::parse(&v).is_none());
    if bad {
        use crate::domain::validate::{Code, In, Violation};
        let allowed = vec!["zh".to_string(), "en".to_string()];
        let e = crate::error::ApiError::Validation(vec![Violation::at(
            In::Query,
            "lang",
            Code::UnknownValue { allowed },
        )]);
        return Ok(req.error_response(e));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
