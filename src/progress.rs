//! The progress bar on stderr for long fleet runs: only on a terminal, only once a run has taken a
//! while, and a real bar (done / total, ETA) as soon as the fleet walk knows the total.
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a run goes before the bar appears, so short runs print nothing extra.
/// `CLAWMIGRATE_PROGRESS_AFTER_MS` changes it (tests use 0).
const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct Progress {
    bar: ProgressBar,
    /// Whether a bar may be drawn at all (a fleet run with stderr on a terminal).
    wanted: bool,
    start: Instant,
    show_after: Duration,
    /// Installs found so far, and whether that count is final.
    found: AtomicU64,
    complete: AtomicBool,
}

impl Progress {
    /// A progress display for a run over `fleet` installs; `total` when known up front.
    pub fn new(fleet: bool, total: Option<u64>) -> Progress {
        let wanted = fleet && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let show_after = std::env::var("CLAWMIGRATE_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(SHOW_AFTER, Duration::from_millis);
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        Progress {
            bar,
            wanted,
            start: Instant::now(),
            show_after,
            found: AtomicU64::new(total.unwrap_or(0)),
            complete: AtomicBool::new(total.is_some()),
        }
    }

    /// The fleet walk found one more install.
    pub fn found_one(&self) {
        self.found.fetch_add(1, Ordering::Relaxed);
    }

    /// The fleet walk is over: the count of installs is final.
    pub fn walk_done(&self) {
        self.complete.store(true, Ordering::Relaxed);
    }

    /// `n` more installs are done; draws the bar once the run has taken long enough.
    pub fn advance(&self, n: u64) {
        self.bar.inc(n);
        if !self.wanted || self.start.elapsed() < self.show_after {
            return;
        }
        if self.bar.is_hidden() {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        if self.complete.load(Ordering::Relaxed) {
            if self.bar.length().is_none() {
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "{bar:30} {pos}/{len} installs, {rate}, about {eta} left",
                    )
                    .expect("a valid template")
                    .with_key(
                        "rate",
                        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = w.write_str(&rate(s.per_sec()));
                        },
                    ),
                );
            }
            self.bar.set_length(self.found.load(Ordering::Relaxed));
        } else {
            self.bar.set_style(
                ProgressStyle::with_template("{spinner} {pos} installs done, {msg}")
                    .expect("a valid template"),
            );
            let found = self.found.load(Ordering::Relaxed);
            self.bar.set_message(format!("{found} found so far"));
        }
    }

    /// Runs `f` (which prints) with the bar out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Installs per second as a person reads it: whole numbers from 10 up, one decimal below
/// (indicatif's own `{per_sec}` prints four).
fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0 installs/s".into()
    } else if per_sec >= 10.0 {
        format!("{per_sec:.0} installs/s")
    } else {
        format!("{per_sec:.1} installs/s")
    }
}

#[cfg(test)]
mod rate_tests {
    #[test]
    fn a_rate_is_rounded_to_what_a_person_reads() {
        assert_eq!(super::rate(123.456_789), "123 installs/s");
        assert_eq!(super::rate(12.4), "12 installs/s");
        assert_eq!(super::rate(3.26), "3.3 installs/s");
        assert_eq!(super::rate(f64::INFINITY), "0 installs/s");
    }
}
