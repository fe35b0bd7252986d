//! A CSV body streamed a page at a time (exports, an import's report): the first page is read
//! before the answer starts, so a request that fails (a bad filter, an unknown job) is still a
//! problem document; the others as the client reads, each on a connection of its own, so a
//! body of any length holds one page in memory.

use std::future::Future;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::ApiResult;
use crate::state::AppState;

/// A page's bytes, and where the next one starts (none after the last).
pub type Page<K> = (Vec<u8>, Option<K>);

/// `200 text/csv` (UTF-8 with a BOM, for Excel): `first`, then the pages `fetch` reads from
/// `next` on. A page that fails ends the body (the client sees it cut short; the log says why).
pub fn csv<K, F, Fut>(state: web::Data<AppState>, first: Page<K>, fetch: F) -> HttpResponse
where
    K: 'static,
    F: Fn(web::Data<AppState>, K) -> Fut + Clone + 'static,
    Fut: Future<Output = ApiResult<Page<K>>> + 'static,
{
    let (first, next) = first;
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend(first);
    let rest = futures_util::stream::unfold(next, move |after| {
        let (state, fetch) = (state.clone(), fetch.clone());
        async move {
            let after = after?;
            match fetch(state, after).await {
                Ok((bytes, next)) => Some((Ok(web::Bytes::from(bytes)), next)),
                Err(e) => {
                    log::warn!("a streamed body stopped: {e}");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("stopped")),
                        None,
                    ))
                }
            }
        }
    });
    let all = futures_util::StreamExt::chain(
        futures_util::stream::once(
            async move { Ok::<_, actix_web::Error>(web::Bytes::from(body)) },
        ),
        rest,
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .streaming(all)
}
