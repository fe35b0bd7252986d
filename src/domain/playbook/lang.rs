//! Content languages: zh (the source) and en, `Accept-Language` matching, and falling back to
//! the other language when a text is missing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A content language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese, the source language (default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Picks the language from an `Accept-Language` header: the highest-weighted zh* or en*
    /// range; `None` when neither is acceptable.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((bq, bi, _)) => q > bq || (q == bq && i < bi),
            };
            if better {
                best = Some((q, i, lang));
            }
        }
        best.map(|(_, _, l)| l)
    }
}

/// Text in the asked language, or the other one when it is missing (`fallback`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Localized {
    pub text: String,
    /// The language `text` is in.
    pub lang: Lang,
    /// True when the asked language was missing and the other one is served.
    pub fallback: bool,
}

pub fn localize(zh: &Option<String>, en: &Option<String>, lang: Lang) -> Localized {
    let (want, other, other_lang) = match lang {
        Lang::Zh => (zh, en, Lang::En),
        Lang::En => (en, zh, Lang::Zh),
    };
    match (want, other) {
        (Some(t), _) => Localized {
            text: t.clone(),
            lang,
            fallback: false,
        },
        (None, Some(t)) => Localized {
            text: t.clone(),
            lang: other_lang,
            fallback: true,
        },
        (None, None) => Localized {
            text: String::new(),
            lang,
            fallback: true,
        },
    }
}
