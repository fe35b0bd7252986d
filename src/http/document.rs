//! `GET /openapi.json`: the OpenAPI document, serialised once per worker, with an ETag of its
//! bytes, so a client (or a generator in CI) can ask `If-None-Match` and get a 304.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use utoipa::openapi::OpenApi;

/// The document as served.
pub struct Document {
    bytes: web::Bytes,
    etag: String,
}

impl Document {
    pub fn new(api: &OpenApi) -> Document {
        // An `OpenApi` always serialises (its maps have string keys).
        let bytes = web::Bytes::from(serde_json::to_vec(api).unwrap_or_default());
        let digest = Sha256::digest(&bytes);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Document {
            bytes,
            etag: format!("\"{hex}\""),
        }
    }
}

/// The handler (not an operation of the document it serves).
pub async fn get_document(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, doc.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type(header::ContentType::json())
        .body(doc.bytes.clone())
}
