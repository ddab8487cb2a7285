//! Huge-page hints for the census's large buffers (the bucketed census's keys, the connection
//! table being built): on Linux, `MADV_HUGEPAGE` lets the kernel back them with 2 MiB pages
//! when transparent huge pages are in `madvise` mode (Debian's and most distributions'
//! default), one page fault per 2 MiB instead of per 4 KiB.
//!
//! Why: these buffers are written once, front to back, right after they are reserved, so each
//! of their 4 KiB pages was a page fault. On the 2-core AMD EPYC VM of 2026-12-04 a fault cost
//! about 5 µs of system time, and faults were a third of a shuffled 1e7-edge census's CPU
//! time. The zeroing of the pages is the same either way; only the faults go.

/// The huge page size hinted at (x86-64's and aarch64's with 4 KiB base pages). Elsewhere the
/// hint only covers fewer, or no, whole pages: the buffers still work.
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// Hints that the whole 2 MiB pages inside `v`'s allocation (its spare capacity included) be
/// huge pages. A hint: errors and other systems change nothing.
pub(crate) fn advise_vec<T>(v: &mut Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        let start = v.as_mut_ptr() as usize;
        let bytes = v.capacity().saturating_mul(std::mem::size_of::<T>());
        let (first, end) = (
            start.next_multiple_of(HUGE_PAGE),
            start.saturating_add(bytes) / HUGE_PAGE * HUGE_PAGE,
        );
        if end > first {
            // SAFETY: [first, end) lies inside `v`'s live allocation (mapped memory), and
            // MADV_HUGEPAGE changes no byte of it, only how the kernel backs the pages.
            let _ = unsafe {
                rustix::mm::madvise(
                    first as *mut std::ffi::c_void,
                    end - first,
                    rustix::mm::Advice::LinuxHugepage,
                )
            };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}
