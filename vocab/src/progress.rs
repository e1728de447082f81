//! Progress bars for long commands (hidden with `--quiet` or when stderr is not a terminal).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polybpe::corpus::ReadProgress;
use polybpe::train::TrainObserver;

/// Shows reading and merging progress with counts and ETA.
pub struct Bars {
    quiet: bool,
    reading: Mutex<Option<ProgressBar>>,
    merging: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(quiet: bool) -> Self {
        Bars { quiet, reading: Mutex::new(None), merging: Mutex::new(None) }
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
        let bar = slot.get_or_insert_with(|| {
            self.bar(
                progress.bytes_total,
                "counting {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}",
            )
        });
        bar.set_position(progress.bytes_done);
        bar.set_message(format!("{} documents", progress.documents));
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
