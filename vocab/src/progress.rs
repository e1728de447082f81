//! Progress bars for long commands (hidden with `--quiet` or when stderr is not a terminal).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};
use polybpe::corpus::ReadProgress;
use polybpe::train::TrainObserver;

/// Shows reading and merging progress with counts and ETA.
pub struct Bars {
    quiet: bool,
    /// When reading began: the counting rate is the bytes done over the whole time since.
    /// (indicatif's own rate extrapolates from the last step; the reader reports a batch when
    /// it has been read, before it is counted, so a step of 8 MB a few microseconds after the
    /// previous one showed as "90 GiB/s".)
    started: Instant,
    reading: Mutex<Option<ProgressBar>>,
    merging: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(quiet: bool) -> Self {
        Bars { quiet, started: Instant::now(), reading: Mutex::new(None), merging: Mutex::new(None) }
    }

    fn bar(&self, len: u64, template: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if self.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(ProgressStyle::with_template(template).expect("static template").progress_chars("=> "));
        bar
    }
}

impl TrainObserver for Bars {
    fn reading(&self, progress: ReadProgress) {
        let mut slot = self.reading.lock().expect("progress lock");
        let bar = slot.get_or_insert_with(|| self.bar(progress.bytes_total, "counting {bar:40} {bytes}/{total_bytes} {msg}"));
        bar.set_position(progress.bytes_done);
        bar.set_message(format!("{}{} documents", rate_and_eta(progress, self.started.elapsed()), progress.documents));
    }

    fn counting_done(&self, distinct_words: usize) {
        if let Some(bar) = self.reading.lock().expect("progress lock").take() {
            bar.finish_with_message(format!("{distinct_words} distinct words"));
        }
    }

    fn merging(&self, done: usize, total: usize) {
        let mut slot = self.merging.lock().expect("progress lock");
        let bar = slot.get_or_insert_with(|| self.bar(total as u64, "merging  {bar:40} {pos}/{len} tokens (ETA {eta})"));
        bar.set_position(done as u64);
        if done >= total {
            bar.finish();
        }
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.merging.lock() {
            if let Some(bar) = slot.take() {
                bar.finish();
            }
        }
    }
}

/// `(12.3 MiB/s, ETA 40s) ` from the average rate since reading began; empty in the first
/// second, when the rate is not yet known.
fn rate_and_eta(progress: ReadProgress, elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) || progress.bytes_done == 0 {
        return String::new();
    }
    let rate = progress.bytes_done as f64 / elapsed.as_secs_f64();
    let left = progress.bytes_total.saturating_sub(progress.bytes_done) as f64 / rate;
    format!("({}/s, ETA {}) ", HumanBytes(rate as u64), HumanDuration(Duration::from_secs_f64(left)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_average_since_reading_began() {
        let progress = ReadProgress { bytes_done: 8 << 20, bytes_total: 80 << 20, documents: 5 };
        // A batch reported a moment after the start shows no rate rather than gigabytes per second.
        assert_eq!(rate_and_eta(progress, Duration::from_millis(3)), "");
        assert_eq!(rate_and_eta(progress, Duration::from_secs(2)), "(4.00 MiB/s, ETA 18 seconds) ");
    }
}
