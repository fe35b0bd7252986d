//! Exact money: amounts are integers of the currency's minor unit, written at the API as decimal
//! strings with exactly the currency's minor digits (`"1200000.00"` CNY, `"5000"` JPY,
//! `"1.250"` KWD). Input is such a string (fewer digits allowed, more refused) or a JSON
//! integer; a binary floating-point number is never accepted.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use crate::domain::validate::{Code, Format};

/// The largest amount accepted, in major units (10^13).
pub const MAX_MAJOR: i64 = 10_000_000_000_000;

/// An ISO 4217 currency code (three upper-case letters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(String);

impl Currency {
    pub fn parse(s: &str) -> Result<Currency, Code> {
        let s = s.trim();
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(s.to_string()))
        } else {
            Err(Code::InvalidFormat(Format::Currency))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point (ISO 4217 minor unit); 2 unless listed.
    pub fn exponent(&self) -> u32 {
        match self.0.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            "CLF" | "UYW" => 4,
            _ => 2,
        }
    }
}

/// An amount: a decimal string or a whole number as the client wrote it. Its value in minor
/// units depends on the currency, so it is read with `to_minor`; `normalized` writes it with
/// exactly the currency's minor digits, as every response does. Serialized as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amount {
    Decimal(String),
    Whole(u64),
}

/// The pattern of a decimal amount at the API.
pub const DECIMAL_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .description(Some(
                "A non-negative amount: a decimal string with at most the currency's minor \
                 digits (\"980.50\" for CNY, \"5000\" for JPY), or a whole number. \
                 Floating-point numbers are refused.",
            ))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(DECIMAL_PATTERN))
                    .examples(["1200000.00"]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .into()
    }
}

impl utoipa::ToSchema for Amount {}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal string such as \"980.50\" or a whole number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Ok(Amount::Decimal(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount::Whole(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                u64::try_from(v)
                    .map(Amount::Whole)
                    .map_err(|_| E::custom("must not be negative"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Amount, E> {
                Err(E::custom(
                    "write amounts as a decimal string such as \"980.50\" (or a whole number), \
                     not a floating-point number",
                ))
            }
        }
        de.deserialize_any(V)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Amount::Decimal(d) => s.serialize_str(d),
            Amount::Whole(n) => s.collect_str(n),
        }
    }
}

impl Amount {
    /// The amount of `minor` units of `currency`.
    pub fn from_minor(minor: i64, currency: &Currency) -> Amount {
        Amount::Decimal(format_minor(minor, currency))
    }

    /// The same amount written with exactly the currency's minor digits.
    pub fn normalized(&self, currency: &Currency) -> Result<Amount, Code> {
        Ok(Amount::from_minor(self.to_minor(currency)?, currency))
    }

    /// The amount in minor units of `currency`, or what is wrong with it.
    pub fn to_minor(&self, currency: &Currency) -> Result<i64, Code> {
        let exp = currency.exponent();
        let scale = 10i64.pow(exp);
        let (whole, frac) = match self {
            Amount::Whole(n) => (i64::try_from(*n).map_err(|_| too_large())?, String::new()),
            Amount::Decimal(s) => {
                let s = s.trim();
                let (w, f) = s.split_once('.').unwrap_or((s, ""));
                let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
                if !digits(w) || (s.contains('.') && !digits(f)) {
                    return Err(Code::InvalidFormat(Format::Amount));
                }
                if f.len() > exp as usize {
                    return Err(Code::TooPrecise {
                        currency: currency.as_str().to_string(),
                        max: exp,
                    });
                }
                let w: i64 = w.parse().map_err(|_| too_large())?;
                (w, f.to_string())
            }
        };
        if whole > MAX_MAJOR {
            return Err(too_large());
        }
        let frac_minor: i64 = if frac.is_empty() {
            0
        } else {
            let padded = format!("{frac:0<width$}", width = exp as usize);
            padded.parse().map_err(|_| too_large())?
        };
        Ok(whole * scale + frac_minor)
    }
}

fn too_large() -> Code {
    Code::OutOfRange {
        min: Some(0),
        max: Some(MAX_MAJOR),
    }
}

/// `minor` units of `currency` as a decimal string with the currency's minor digits.
pub fn format_minor(minor: i64, currency: &Currency) -> String {
    let exp = currency.exponent();
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{m}");
    }
    let scale = 10u64.pow(exp);
    format!(
        "{sign}{}.{:0width$}",
        m / scale,
        m % scale,
        width = exp as usize
    )
}

/// `percent`% of `minor`, rounded half away from zero.
pub fn percent_of(minor: i64, percent: u8) -> i64 {
    let v = i128::from(minor) * i128::from(percent);
    let r = if v >= 0 {
        (v + 50) / 100
    } else {
        (v - 50) / 100
    };
    i64::try_from(r).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    fn dec(s: &str) -> Amount {
        Amount::Decimal(s.to_string())
    }

    #[test]
    fn decimal_strings_follow_the_currency_exponent() {
        assert_eq!(dec("980.5").to_minor(&cny()), Ok(98050));
        assert_eq!(dec("1200000.00").to_minor(&cny()), Ok(120_000_000));
        assert_eq!(dec("7").to_minor(&cny()), Ok(700));
        assert_eq!(
            dec("980.123").to_minor(&cny()).unwrap_err(),
            Code::TooPrecise {
                currency: "CNY".into(),
                max: 2
            }
        );
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(dec("5000").to_minor(&jpy), Ok(5000));
        assert!(dec("5000.5").to_minor(&jpy).is_err());
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(dec("1.25").to_minor(&kwd), Ok(1250));
    }

    #[test]
    fn malformed_and_huge_amounts_are_refused() {
        for bad in ["", ".5", "5.", "-1", "1e3", "1,000", " 1 2", "0x10", "１２"] {
            assert!(dec(bad).to_minor(&cny()).is_err(), "{bad}");
        }
        assert!(dec("10000000000001").to_minor(&cny()).is_err());
        assert!(dec("99999999999999999999999").to_minor(&cny()).is_err());
        assert_eq!(Amount::Whole(42).to_minor(&cny()), Ok(4200));
    }

    #[test]
    fn json_floats_are_refused_integers_and_strings_accepted() {
        assert_eq!(
            serde_json::from_str::<Amount>("12").unwrap(),
            Amount::Whole(12)
        );
        assert_eq!(
            serde_json::from_str::<Amount>("\"12.5\"").unwrap(),
            dec("12.5")
        );
        assert!(serde_json::from_str::<Amount>("12.5").is_err());
        assert!(serde_json::from_str::<Amount>("12.0").is_err());
        assert!(serde_json::from_str::<Amount>("-3").is_err());
    }

    #[test]
    fn formats_with_the_minor_digits() {
        assert_eq!(format_minor(120_000_000, &cny()), "1200000.00");
        assert_eq!(format_minor(5, &cny()), "0.05");
        assert_eq!(format_minor(5000, &Currency::parse("JPY").unwrap()), "5000");
        assert_eq!(
            format_minor(1250, &Currency::parse("KWD").unwrap()),
            "1.250"
        );
        assert_eq!(percent_of(101, 50), 51);
        assert_eq!(percent_of(120_000_000, 10), 12_000_000);
    }

    #[test]
    fn normalizes_and_serializes_as_strings() {
        let a = Amount::Whole(1_000_000).normalized(&cny()).unwrap();
        assert_eq!(serde_json::to_value(&a).unwrap(), "1000000.00");
        assert_eq!(dec("0.5").normalized(&cny()).unwrap(), dec("0.50"));
        assert_eq!(serde_json::to_value(Amount::Whole(7)).unwrap(), "7");
    }

    #[test]
    fn currency_codes() {
        assert!(Currency::parse("cny").is_err());
        assert!(Currency::parse("CNYY").is_err());
        assert_eq!(Currency::parse(" USD ").unwrap().as_str(), "USD");
    }
}
