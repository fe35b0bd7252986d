//! The language of texts in a response: `?lang`, else `Accept-Language`, else zh.

use actix_web::http::header;
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
