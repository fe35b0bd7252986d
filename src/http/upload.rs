//! Reading an uploaded file: the body itself, or the file part of a `multipart/form-data` form;
//! within the upload limit (413), of an accepted type (415).

use actix_web::http::header;
use actix_web::web;

use crate::domain::validate::{Code, Format, In, Violation};
use crate::error::{ApiError, ApiResult};

/// The `charset=` of a content type.
fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The uploaded bytes and the charset their content type declared.
/// Reads the uploaded workbook: a raw XLSX body, or the first file of a multipart form.
pub async fn read_upload(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    limit: usize,
    accepted: &[&str],
) -> ApiResult<(Vec<u8>, Option<String>)> {
    use futures_util::StreamExt;
    let too_large = || {
        ApiError::PayloadTooLarge(Box::new(Violation::new(
            "",
            Code::TooLarge {
                max_bytes: limit as u64,
            },
        )))
    };
    let malformed = |e: actix_multipart::MultipartError| {
        log::debug!("malformed multipart body: {e}");
        ApiError::BadRequest(vec![Violation::new(
            "",
            Code::InvalidFormat(Format::Multipart),
        )])
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = actix_multipart::Multipart::new(req.headers(), payload);
        while let Some(field) = form.next().await {
            let mut field = field.map_err(malformed)?;
            let is_file = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .is_some();
            let mut buf = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(malformed)?;
                if buf.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            if is_file {
                let part_type = field.content_type().map(|m| m.to_string());
                return Ok((buf, part_type.as_deref().and_then(charset_of)));
            }
        }
        return Err(ApiError::validation("file", Code::Required));
    }
    if !accepted.iter().any(|a| content_type.starts_with(a)) {
        return Err(ApiError::UnsupportedMediaType(Box::new(Violation::at(
            In::Header,
            "Content-Type",
            Code::UnsupportedType {
                allowed: accepted
                    .iter()
                    .map(|a| a.to_string())
                    .chain(["multipart/form-data".to_string()])
                    .collect(),
            },
        ))));
    }
    let mut payload = payload;
    // Sized once from the declared length (growing by doubling would hold up to twice the
    // file for a moment).
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut buf = Vec::with_capacity(declared.min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::internal_in("reading the request body", e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, charset_of(&content_type)))
}
