//! Counted nouns for messages: "1 edge", "2 edges", "1 index", "3 indices".

/// `n` and `noun`, with an `s` unless `n` is 1: `plural(1, "edge")` is "1 edge",
/// `plural(2, "edge")` is "2 edges". For nouns whose plural is not noun + `s`, see [`plural_as`].
pub fn plural(n: impl Into<u128>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `n` and `singular` when `n` is 1, else `n` and `plural`: `plural_as(1, "index", "indices")`.
pub fn plural_as(n: impl Into<u128>, singular: &str, plural: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("{n} {singular}")
    } else {
        format!("{n} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::{plural, plural_as};

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(plural(1u64, "edge"), "1 edge");
        assert_eq!(plural(0u64, "edge"), "0 edges");
        assert_eq!(plural(2u32, "connection"), "2 connections");
        assert_eq!(plural(u64::MAX, "row"), format!("{} rows", u64::MAX));
        assert_eq!(plural_as(1u32, "index", "indices"), "1 index");
        assert_eq!(plural_as(7u32, "index", "indices"), "7 indices");
    }
}
