//! `Selection::from_ranges`, `from_values`, `flatten`, `flat_size` and `intersect` on arbitrary
//! ranges and values against `BTreeSet` computations (as `tests/fuzz_index.rs`).
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sonata_census::Selection;
use sonata_census::sonata::index::intersect;

/// Up to 32 ranges: short ones near 0 or near `u64::MAX` (enumerable), inverted and empty ones
/// included.
fn small_ranges(u: &mut Unstructured) -> Result<Vec<(u64, u64)>> {
    let n: usize = u.int_in_range(0..=32)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let a: u16 = u.arbitrary()?;
        let len: u8 = u.arbitrary()?;
        let top: bool = u.arbitrary()?;
        let inverted: bool = u.int_in_range(0..=15u8)? == 0;
        let a = if top {
            u64::MAX - u64::from(a)
        } else {
            u64::from(a)
        };
        let b = a.saturating_add(u64::from(len));
        v.push(if inverted { (b, a) } else { (a, b) });
    }
    Ok(v)
}

fn canonical(s: &Selection) {
    assert!(s.ranges().iter().all(|&(a, b)| a < b), "{:?}", s.ranges());
    for w in s.ranges().windows(2) {
        assert!(w[0].1 < w[1].0, "{:?}", s.ranges());
    }
}

fn set(r: &[(u64, u64)]) -> BTreeSet<u64> {
    r.iter().flat_map(|&(a, b)| a..b).collect()
}

fn run(u: &mut Unstructured) -> Result<()> {
    let a = small_ranges(u)?;
    let b = small_ranges(u)?;
    let (sa, sb) = (
        Selection::from_ranges(a.clone()),
        Selection::from_ranges(b.clone()),
    );
    canonical(&sa);
    let (set_a, set_b) = (set(&a), set(&b));
    assert_eq!(sa.flatten(), set_a.iter().copied().collect::<Vec<_>>());
    assert_eq!(sa.flat_size(), set_a.len() as u64);
    assert_eq!(Selection::from_values(&sa.flatten()), sa);

    let i = intersect(&sa, &sb);
    canonical(&i);
    let want: Vec<u64> = set_a.intersection(&set_b).copied().collect();
    assert_eq!(i.flatten(), want);

    // Wide ranges anywhere: membership checked at every boundary and its neighbours.
    let n: usize = u.int_in_range(0..=16)?;
    let mut wide = Vec::with_capacity(n);
    for _ in 0..n {
        wide.push((u.arbitrary::<u64>()?, u.arbitrary::<u64>()?));
    }
    let w = Selection::from_ranges(wide.clone());
    canonical(&w);
    for x in wide
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .flat_map(|x| [x.saturating_sub(1), x, x.saturating_add(1)])
    {
        let inside = wide.iter().any(|&(a, b)| a <= x && x < b);
        let got = w.ranges().iter().any(|&(a, b)| a <= x && x < b);
        assert_eq!(got, inside, "{x} in {wide:?} -> {:?}", w.ranges());
    }

    let values: Vec<u64> = (0..u.int_in_range(0..=64)?)
        .map(|_| u.arbitrary::<u64>())
        .collect::<Result<_>>()?;
    let s = Selection::from_values(&values);
    canonical(&s);
    let want: BTreeSet<u64> = values.iter().copied().filter(|&v| v < u64::MAX).collect();
    assert_eq!(s.flat_size(), want.len() as u64);
    for &(a, b) in s.ranges() {
        assert!(want.contains(&a) && want.contains(&(b - 1)));
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
