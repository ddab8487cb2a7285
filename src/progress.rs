//! Progress reporting for long work, on stderr.
//!
//! Library functions take a [`Progress`]; the command-line tool decides whether it is drawn
//! (not under `-q`, and only when stderr is a terminal — indicatif hides bars otherwise).
//! Bars appear only for work that lasts more than a second.
//!
//! The bars are drawn with indicatif, under the feature `progress` (which `cli` enables). Without
//! it [`Progress`] keeps its API and draws nothing, so that a library build carries no terminal
//! code and callers need no `cfg` of their own.

#[cfg(feature = "progress")]
pub use drawn::Progress;
#[cfg(not(feature = "progress"))]
pub use silent::Progress;

/// [`Progress`] without the feature `progress`: every method does nothing.
#[cfg(not(feature = "progress"))]
mod silent {
    /// A progress bar that is never drawn (the feature `progress` is off).
    #[derive(Debug, Clone, Default)]
    pub struct Progress;

    impl Progress {
        /// A bar that never draws.
        pub fn hidden() -> Self {
            Progress
        }

        /// A bar on stderr: without the feature `progress`, one that never draws.
        pub fn stderr(_message: &str, _total: u64, _unit: &str) -> Self {
            Progress
        }

        /// Starts a new phase.
        pub fn phase(&self, _message: &str, _total: u64) {}

        /// Advances by `n` units.
        pub fn inc(&self, _n: u64) {}

        /// Sets the position.
        pub fn set_position(&self, _n: u64) {}

        /// Work goes on that the bar cannot measure.
        pub fn waiting(&self, _message: &str) {}

        /// Removes the bar.
        pub fn finish(&self) {}
    }
}

/// [`Progress`] drawn with indicatif.
#[cfg(feature = "progress")]
mod drawn {
    use std::time::Duration;

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    /// A progress bar that may be hidden.
    #[derive(Debug, Clone)]
    pub struct Progress {
        bar: ProgressBar,
        /// What the bar counts (`edges`), for its template.
        unit: String,
    }

    /// The template of a bar counting `unit`.
    fn bar_style(unit: &str) -> Option<ProgressStyle> {
        let template = format!(
            "{{msg}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} (eta {{eta}})"
        );
        ProgressStyle::with_template(&template).ok()
    }

    impl Progress {
        /// A bar that never draws.
        pub fn hidden() -> Self {
            Progress {
                bar: ProgressBar::hidden(),
                unit: String::new(),
            }
        }

        /// A bar on stderr (drawn only when stderr is a terminal) for `total` units of `unit`.
        pub fn stderr(message: &str, total: u64, unit: &str) -> Self {
            let progress = Self::undrawn(message, total, unit);
            let shown = progress.bar.clone();
            // Draw only once the work has lasted a second: short runs stay silent.
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(1));
                if !shown.is_finished() {
                    shown.set_draw_target(ProgressDrawTarget::stderr());
                }
            });
            progress
        }

        /// A bar with its style and message, drawn nowhere yet.
        fn undrawn(message: &str, total: u64, unit: &str) -> Self {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            if let Some(style) = bar_style(unit) {
                bar.set_style(style);
            }
            bar.set_message(message.to_string());
            Progress {
                bar,
                unit: unit.to_string(),
            }
        }

        /// Starts a new phase: new message and length, position reset (and the bar back if
        /// [`Progress::waiting`] had replaced it).
        pub fn phase(&self, message: &str, total: u64) {
            self.bar.disable_steady_tick();
            if let Some(style) = bar_style(&self.unit) {
                self.bar.set_style(style);
            }
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

        /// Work goes on that the bar cannot measure (the GPU finishing queued kernels, the
        /// readback): a spinner with `message` and the elapsed time replaces the bar, so that a
        /// bar at 100 % is never left standing still while the process works.
        pub fn waiting(&self, message: &str) {
            if let Ok(style) = ProgressStyle::with_template("{msg} [{elapsed_precise}] {spinner}") {
                self.bar.set_style(style);
            }
            self.bar.set_message(message.to_string());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }

        /// Removes the bar.
        pub fn finish(&self) {
            self.bar.finish_and_clear();
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use indicatif::InMemoryTerm;

        /// What a terminal of 100 columns shows of `progress` now.
        fn screen(progress: &Progress, term: &InMemoryTerm) -> String {
            progress.bar.tick();
            term.contents()
        }

        #[test]
        fn waiting_replaces_a_full_bar_and_phase_brings_it_back() {
            let term = InMemoryTerm::new(4, 100);
            let progress = Progress::undrawn("pop: counting", 10, "edges");
            progress
                .bar
                .set_draw_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
            progress.set_position(10);
            let full = screen(&progress, &term);
            assert!(full.contains("10/10 edges"), "{full}");

            progress.waiting("pop: finishing on the GPU");
            let waiting = screen(&progress, &term);
            assert!(waiting.contains("pop: finishing on the GPU"), "{waiting}");
            assert!(
                !waiting.contains("10/10"),
                "a full bar is left standing: {waiting}"
            );

            progress.phase("pop: next pass", 5);
            let next = screen(&progress, &term);
            assert!(next.contains("pop: next pass"), "{next}");
            assert!(next.contains("0/5 edges"), "{next}");
            progress.finish();
        }
    }
}
