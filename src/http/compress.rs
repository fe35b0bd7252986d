//! Response compression negotiated by `Accept-Encoding` (br, gzip, zstd, deflate), for text and
//! JSON bodies of at least 1 KiB: below that, compressing costs more time than it saves bytes.
//! Every response says `Vary: Accept-Encoding`; a client that accepts nothing we offer gets
//! the body as it is (never 406).

use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, Header, HeaderValue,
};
use actix_web::middleware::Next;

/// Smallest body worth compressing.
pub const MIN_SIZE: u64 = 1024;

/// Ours, in the order we prefer them when the client likes several equally.
static OFFERED: [Encoding; 5] = [
    Encoding::brotli(),
    Encoding::zstd(),
    Encoding::gzip(),
    Encoding::deflate(),
    Encoding::identity(),
];

/// The coding to use for this request's response.
fn negotiate(req: &ServiceRequest) -> ContentEncoding {
    match AcceptEncoding::parse(req) {
        Ok(accepted) => match accepted.negotiate(OFFERED.iter()) {
            Some(Encoding::Known(coding)) => coding,
            _ => ContentEncoding::Identity,
        },
        Err(_) => ContentEncoding::Identity,
    }
}

/// Text, JSON and script bodies compress; images, archives (XLSX) and the like do not.
fn compressible(content_type: Option<&HeaderValue>) -> bool {
    let Some(ct) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/javascript"
        || essence == "image/svg+xml"
}

pub async fn middleware<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<Encoder<B>, B>>, actix_web::Error> {
    let coding = negotiate(&req);
    let mut res = next.call(req).await?;
    let vary_set = res.headers().get_all(header::VARY).any(|v| {
        v.to_str()
            .is_ok_and(|s| s.to_ascii_lowercase().contains("accept-encoding"))
    });
    let big = |size: BodySize| match size {
        BodySize::Sized(n) => n >= MIN_SIZE,
        BodySize::Stream => true,
        BodySize::None => false,
    };
    let encode = coding != ContentEncoding::Identity
        && big(res.response().body().size())
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && compressible(res.headers().get(header::CONTENT_TYPE));
    if !encode {
        if !vary_set {
            res.headers_mut()
                .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        return Ok(res.map_into_right_body());
    }
    // The encoder sets Content-Encoding and Vary, and drops the length it can no longer know.
    Ok(res.map_body(|head, body| EitherBody::left(Encoder::response(coding, head, body))))
}
