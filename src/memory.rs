//! This machine's memory (RAM + swap), read from `/proc/meminfo`: the bound that census tables
//! (`census::limits`) and node tables (`sonata::nodes`) are checked against before they are
//! allocated, so that a corrupt id or count is a typed error rather than an allocation abort.

/// RAM + swap in bytes, from `/proc/meminfo`; `None` where that is not readable.
pub fn memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some(kib("MemTotal:")?.saturating_add(kib("SwapTotal:").unwrap_or(0)) * 1024)
}

/// `bytes` as "23.5 GiB".
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// RAM + swap as "23.5 GiB" ("unknown" where it cannot be read), for messages.
pub fn memory_text() -> String {
    memory_bytes().map_or("unknown".to_string(), gib)
}
