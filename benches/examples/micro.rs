use std::time::Instant;
use polybpe::AllowedSpecial;
fn main() {
    let tok = polybpe::formats::tiktoken::load("/work/shared/tokenizers/cl100k_base/cl100k_base.tiktoken".as_ref(), "cl100k").unwrap();
    for text in ["the cat sat on the mat the cat sat on the mat the cat sat on the mat the cat sat on the mat the cat sat on the mat the cat sat on the mat the cat sat on the mat ", "Le chat était assis sur le tapis, près de la fenêtre ouverte. Le chat était assis sur le tapis, près de la fenêtre ouverte. "] {
        let n = 1_000_000;
        let t = Instant::now();
        let mut s = 0;
        for _ in 0..n { s += tok.encode(text, AllowedSpecial::None).unwrap().len(); }
        let dt = t.elapsed().as_secs_f64() / n as f64;
        println!("{} ns  ({} tokens) {:.1} MB/s", (dt * 1e9) as u64, s / n, text.len() as f64 / dt / 1e6);
        let pre = tok.pre_tokenizer();
        let t = Instant::now();
        for _ in 0..n { s += pre.split(text).unwrap().len(); }
        let dt = t.elapsed().as_secs_f64() / n as f64;
        println!("split {} ns", (dt * 1e9) as u64);
    }
}
