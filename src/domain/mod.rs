//! Pure domain code: no I/O, no actix, no diesel. Decisions live here; handlers gather facts
//! and call in.

pub mod activity;
pub mod assessment;
pub mod event;
pub mod external_ref;
pub mod ids;
pub mod import;
pub mod money;
pub mod opportunity;
pub mod org_chart;
pub mod playbook;
pub mod survey;
pub mod text;
pub mod texts;
pub mod timeline;
pub mod validate;
pub mod webhook;

/// A closed vocabulary whose values are stored and sent as text codes.
pub trait Vocabulary: Sized + Copy + 'static {
    fn code(self) -> &'static str;
    fn from_code(s: &str) -> Option<Self>;
}

/// Declares a closed vocabulary stored as text: a serde/utoipa enum with `as_str`/`parse`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire codes, in declaration order.
            pub const CODES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::domain::Vocabulary for $name {
            fn code(self) -> &'static str {
                self.as_str()
            }

            fn from_code(s: &str) -> Option<Self> {
                Self::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// The size band of a customer organisation (by headcount: micro < 10, small < 100,
    /// medium < 1,000, large < 10,000, enterprise 10,000+).
    SizeBand {
        Micro => "micro",
        Small => "small",
        Medium => "medium",
        Large => "large",
        Enterprise => "enterprise",
    }
);
