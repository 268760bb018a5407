//! Run tokens: `cp` followed by 10 lowercase hex digits, e.g. `cp3f9a1c0d7e`.
//!
//! Alphanumeric only, because SIEM tokenizers split on `-` and `_`, and long
//! enough (12 characters) for KQL's term index, which skips terms shorter
//! than 3 characters. 40 random bits make a collision between two runs of one
//! lab negligible.

use rand::Rng;

/// A fresh random token.
pub fn new() -> String {
    let n: u64 = rand::rng().random::<u64>() & 0xff_ffff_ffff;
    format!("cp{n:010x}")
}

/// True when `s` has the token shape.
pub fn is_token(s: &str) -> bool {
    s.len() == 12
        && s.starts_with("cp")
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_have_the_documented_shape_and_differ() {
        let a = super::new();
        let b = super::new();
        assert!(super::is_token(&a), "{a}");
        assert_ne!(a, b);
        for bad in [
            "cp-3f9a1c0d7e",
            "CP3F9A1C0D7E",
            "cp3f9a1c0d7",
            "xx3f9a1c0d7e",
        ] {
            assert!(!super::is_token(bad), "{bad}");
        }
    }
}
