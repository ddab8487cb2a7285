//! Node id narrowing: the checked u64 -> u32 conversion used before ids are uploaded or packed.

/// Narrows `ids` into `out` (cleared first) when every id fits in u32.
///
/// Returns `Err(position)` of the first id that does not fit; `out` is then unspecified.
pub fn narrow_to_u32(ids: &[u64], out: &mut Vec<u32>) -> Result<(), usize> {
    out.clear();
    out.reserve(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        match u32::try_from(id) {
            Ok(v) => out.push(v),
            Err(_) => return Err(i),
        }
    }
    Ok(())
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
}
