//! Progress reporting for long work, on stderr.
//!
//! Library functions take a [`Progress`]; the command-line tool decides whether it is drawn
//! (not under `-q`, and only when stderr is a terminal — indicatif hides bars otherwise).
//! Bars appear only for work that lasts more than a second.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that may be hidden.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar that never draws.
    pub fn hidden() -> Self {
        Progress {
            bar: ProgressBar::hidden(),
        }
    }

    /// A bar on stderr (drawn only when stderr is a terminal) for `total` units of `unit`.
    pub fn stderr(message: &str, total: u64, unit: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let template = format!(
            "{{msg}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} (eta {{eta}})"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.set_message(message.to_string());
        let shown = bar.clone();
        // Draw only once the work has lasted a second: short runs stay silent.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(1));
            if !shown.is_finished() {
                shown.set_draw_target(ProgressDrawTarget::stderr());
            }
        });
        Progress { bar }
    }

    /// Starts a new phase: new message and length, position reset.
    pub fn phase(&self, message: &str, total: u64) {
        self.bar.set_message(message.to_string());
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    /// Advances by `n` units.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Sets the position (for callers that report cumulative progress).
    pub fn set_position(&self, n: u64) {
        self.bar.set_position(n);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
