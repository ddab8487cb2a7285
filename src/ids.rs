//! Node ids and counts: the checked u64 -> u32 narrowing used before ids are uploaded or
//! packed, and the command line's readers of counts (`1e6`, `10_000_000`) and of node id lists
//! (`0,1,2` or `@PATH`), shared by every command so that they accept and refuse the same things.

use std::path::Path;

use crate::error::{Error, Result};

/// Narrows `ids` into `out` (cleared first) when every id fits in u32.
///
/// Returns `Err(position)` of the first id that does not fit; `out` then holds the ids
/// truncated. The same narrowing as the GPU engine's uploads ([`narrow_into`]).
pub fn narrow_to_u32(ids: &[u64], out: &mut Vec<u32>) -> Result<(), usize> {
    out.clear();
    out.resize(ids.len(), 0);
    narrow_into(ids, out)
}

/// Writes `ids` as u32 into `out[..ids.len()]` (truncated where an id does not fit) and returns
/// `Err(position)` of the first id that does not fit. The one narrowing of the crate: the GPU
/// engine narrows every uploaded block with it. Branch-free in the loop (the check is an OR of
/// the high halves), so it costs no more than the plain truncating copy.
///
/// # Panics
/// Never: `out` shorter than `ids` narrows only the first `out.len()` ids.
pub fn narrow_into(ids: &[u64], out: &mut [u32]) -> Result<(), usize> {
    let mut high = 0u64;
    for (o, &id) in out.iter_mut().zip(ids) {
        *o = id as u32;
        high |= id >> 32;
    }
    if high == 0 {
        return Ok(());
    }
    Err(ids
        .iter()
        .position(|&id| id > u64::from(u32::MAX))
        .unwrap_or(0))
}

const COUNT_FORMS: &str = "a whole number such as 1000000, 1e6 or 1_000_000";

/// Reads a count written as digits (`10000000`), digits in `_`-separated groups (`10_000_000`)
/// or in scientific notation with an exact integer value (`1e6`, `2.5E3`, `1.5e1`).
///
/// # Errors
/// A one-line message when `text` is not a number, not a whole number (`1.5e0`, `1e-3`),
/// negative, or beyond `u64`.
pub fn parse_count(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let not_a_number = || format!("'{t}' is not {COUNT_FORMS}");
    if let Some(rest) = t.strip_prefix('-')
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(format!("'{t}' is negative: expected {COUNT_FORMS}"));
    }
    let (mantissa, exponent) = match t.split_once(['e', 'E']) {
        Some((m, e)) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_a_number());
            }
            // Beyond any u64: saturate, the value check below refuses it.
            let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX / 2);
            (
                m,
                if e.starts_with('-') {
                    -magnitude
                } else {
                    magnitude
                },
            )
        }
        None => (t, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let grouped = |s: &str| {
        !s.is_empty()
            && s.split('_')
                .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    };
    if !grouped(whole) || (mantissa.contains('.') && !grouped(fraction)) {
        return Err(not_a_number());
    }
    // The value is DIGITS × 10^scale.
    let fraction = fraction.replace('_', "");
    let fraction = fraction.trim_end_matches('0');
    let mut digits = format!("{}{fraction}", whole.replace('_', ""));
    let mut scale = exponent - fraction.len() as i64;
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    digits = significant.to_string();
    while scale < 0 && digits.ends_with('0') {
        digits.pop();
        scale += 1;
    }
    if scale < 0 {
        return Err(format!(
            "'{t}' is not a whole number: expected {COUNT_FORMS}"
        ));
    }
    let too_large = || format!("'{t}' is too large: at most {}", u64::MAX);
    let mut value: u64 = digits.parse().map_err(|_| too_large())?;
    for _ in 0..scale {
        value = value.checked_mul(10).ok_or_else(too_large)?;
    }
    Ok(value)
}

/// [`parse_count`] for counts stored as `u32`.
///
/// # Errors
/// As [`parse_count`]; a count beyond `u32`.
pub fn parse_count_u32(text: &str) -> std::result::Result<u32, String> {
    let n = parse_count(text)?;
    u32::try_from(n).map_err(|_| format!("'{}' is too large: at most {}", text.trim(), u32::MAX))
}

/// [`parse_count`] for counts stored as `usize`.
///
/// # Errors
/// As [`parse_count`]; a count beyond `usize`.
pub fn parse_count_usize(text: &str) -> std::result::Result<usize, String> {
    let n = parse_count(text)?;
    usize::try_from(n)
        .map_err(|_| format!("'{}' is too large: at most {}", text.trim(), usize::MAX))
}

/// One node id: a non-negative integer that fits in 64 bits, written in digits. `what` names
/// where it came from in the message (`--targets`, `ids.txt:3`).
///
/// # Errors
/// [`Error::InvalidArgument`]: `'-1' is negative`, `'x' is not a node id`, `... does not fit in
/// 64 bits`.
pub fn parse_id(token: &str, what: &str) -> Result<u64> {
    let t = token.trim();
    t.parse::<u64>().map_err(|_| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let why = if t.strip_prefix('-').is_some_and(digits) {
            "is negative"
        } else if digits(t) {
            "does not fit in 64 bits"
        } else {
            "is not a node id"
        };
        Error::InvalidArgument(format!("{what}: '{t}' {why}"))
    })
}

/// A node id list as the command line takes it (`--targets`, `--gids`; `option` names it in
/// messages): comma-separated ids (`0,1,2`; an empty list or an empty item is an error), or
/// `@PATH`, a file with one id per line (blank lines skipped; a file without ids is an empty
/// list).
///
/// # Errors
/// [`Error::InputFile`] (bad input, exit code 2) naming the file when `@PATH` cannot be read;
/// [`Error::InvalidArgument`] for an item that is not an id, naming `option` or `PATH:LINE`.
pub fn parse_id_list(list: &str, option: &str) -> Result<Vec<u64>> {
    if let Some(path) = list.strip_prefix('@') {
        let text = std::fs::read_to_string(Path::new(path))
            .map_err(|source| Error::input_file(path, source))?;
        return text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| parse_id(l, &format!("{path}:{}", i + 1)))
            .collect();
    }
    list.split(',')
        .map(|token| parse_id(token, option))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_is_checked() {
        let mut out = Vec::new();
        assert_eq!(narrow_to_u32(&[0, 5, u32::MAX as u64], &mut out), Ok(()));
        assert_eq!(out, vec![0, 5, u32::MAX]);
        assert_eq!(
            narrow_to_u32(&[1, u32::MAX as u64 + 1, 2], &mut out),
            Err(1)
        );
    }

    #[test]
    fn counts_are_exact_integers_in_any_usual_spelling() {
        for (text, want) in [
            ("10000000", 10_000_000),
            ("10_000_000", 10_000_000),
            ("1e6", 1_000_000),
            ("1E6", 1_000_000),
            ("1e+6", 1_000_000),
            ("2.5e3", 2500),
            ("1.5e1", 15),
            ("1000e-3", 1),
            ("0", 0),
            ("0e0", 0),
            ("0.0", 0),
            ("1.0", 1),
            (" 42 ", 42),
            ("18446744073709551615", u64::MAX),
            ("1.8446744073709551615e19", u64::MAX),
        ] {
            assert_eq!(parse_count(text), Ok(want), "{text}");
        }
        for (text, why) in [
            ("1.5e0", "is not a whole number"),
            ("1e-3", "is not a whole number"),
            ("1.5", "is not a whole number"),
            ("-5", "is negative"),
            ("-1e6", "is negative"),
            ("1e20", "is too large"),
            ("18446744073709551616", "is too large"),
            ("1e999999999999999999999", "is too large"),
            ("", "is not a whole number such as"),
            ("x", "is not a whole number such as"),
            ("1e", "is not"),
            ("e6", "is not"),
            ("1_", "is not"),
            ("_1", "is not"),
            ("1__0", "is not"),
            (".5e1", "is not"),
            ("1.e3", "is not"),
            ("0x10", "is not"),
            ("1e6.5", "is not"),
            ("inf", "is not"),
            ("NaN", "is not"),
        ] {
            let err = parse_count(text).unwrap_err();
            assert!(
                err.contains(why) && err.contains(text.trim()),
                "{text}: {err}"
            );
        }
        assert_eq!(parse_count_u32("4e9"), Ok(4_000_000_000));
        assert!(
            parse_count_u32("5e9")
                .unwrap_err()
                .contains("at most 4294967295")
        );
        assert_eq!(parse_count_usize("1_000"), Ok(1000));
    }

    #[test]
    fn id_lists_refuse_empty_items_and_name_their_file() {
        assert_eq!(parse_id_list("3,1, 2", "--gids").unwrap(), vec![3, 1, 2]);
        for (list, why) in [
            ("", "--gids: '' is not a node id"),
            ("1,,2", "--gids: '' is not a node id"),
            ("1,", "--gids: '' is not a node id"),
            ("-1", "--gids: '-1' is negative"),
            ("99999999999999999999", "does not fit in 64 bits"),
        ] {
            let err = parse_id_list(list, "--gids").unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{list}: {err}");
            assert!(err.to_string().contains(why), "{list}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ids.txt");
        std::fs::write(&file, "4\n\n2\nx\n").unwrap();
        let err = parse_id_list(&format!("@{}", file.display()), "--gids").unwrap_err();
        assert!(
            err.to_string().contains("ids.txt:4: 'x' is not a node id"),
            "{err}"
        );
        std::fs::write(&file, "4\n\n2\n").unwrap();
        assert_eq!(
            parse_id_list(&format!("@{}", file.display()), "--gids").unwrap(),
            vec![4, 2]
        );
        let missing = dir.path().join("missing.txt");
        let err = parse_id_list(&format!("@{}", missing.display()), "--gids").unwrap_err();
        assert!(
            matches!(err, Error::InputFile { .. }) && err.is_input_error(),
            "{err}"
        );
        assert!(err.to_string().contains("missing.txt"), "{err}");
    }
}
