//! Cost of one listing-photo upload: `process_photo` on a 12 MP (4000 × 3000) phone-like JPEG, on the
//! current thread only (production runs one photo per core behind a semaphore).
//!
//! `cargo bench --bench photo` (release profile). `PHOTO_BENCH_RUNS=50` changes the number of timed runs.
//! Prints a Markdown table ready to paste into BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use nongsan::media::{DISPLAY_QUALITY, process_photo, sample};

const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;
const WARM_UP: usize = 2;
const DEFAULT_RUNS: usize = 20;

fn main() {
    let runs = std::env::var("PHOTO_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_RUNS).max(1);
    let input = sample::demo_photo(WIDTH, HEIGHT, 42);

    let mut output = process_photo(black_box(&input));
    for _ in 1..WARM_UP {
        output = process_photo(black_box(&input));
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        output = process_photo(black_box(&input));
        times.push(started.elapsed());
    }
    let photo = match output {
        Ok(photo) => photo,
        Err(e) => {
            eprintln!("process_photo refused the sample: {e}");
            std::process::exit(1);
        }
    };

    // For context: the decode alone, the step no setting of ours can make cheaper.
    let mut decode_times = Vec::with_capacity(runs);
    for _ in 0..runs.min(10) {
        let started = Instant::now();
        let decoded = image::load_from_memory_with_format(black_box(&input), image::ImageFormat::Jpeg);
        decode_times.push(started.elapsed());
        black_box(decoded.is_ok());
    }

    // And the encode of the display image, with the same encoder and quality as the pipeline.
    let display = image::load_from_memory_with_format(&photo.display, image::ImageFormat::Jpeg)
        .map(|d| d.into_rgb8())
        .unwrap_or_default();
    let mut encode_times = Vec::with_capacity(runs);
    for _ in 0..runs.min(10) {
        let started = Instant::now();
        let mut out = Vec::new();
        let encoded = JpegEncoder::new_with_quality(&mut out, DISPLAY_QUALITY).encode_image(black_box(&display));
        encode_times.push(started.elapsed());
        black_box(encoded.is_ok());
    }

    times.sort();
    encode_times.sort();
    decode_times.sort();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    println!("### process_photo, {WIDTH}×{HEIGHT} JPEG ({} KB), one thread", kb(input.len()));
    println!();
    println!("Machine: {cpu}, {cores} cores; {runs} runs after {WARM_UP} warm-ups; `cargo bench --bench photo`.");
    println!();
    println!("| step | min ms | median ms | p95 ms |");
    println!("|---|---:|---:|---:|");
    println!(
        "| process_photo (decode → resize → orient → 2 × encode) | {} | {} | {} |",
        ms(times[0]),
        ms(percentile(&times, 50)),
        ms(percentile(&times, 95))
    );
    println!(
        "| of which: JPEG decode alone | {} | {} | {} |",
        ms(decode_times[0]),
        ms(percentile(&decode_times, 50)),
        ms(percentile(&decode_times, 95))
    );
    println!(
        "| of which: JPEG encode of the {}×{} display alone | {} | {} | {} |",
        photo.width,
        photo.height,
        ms(encode_times[0]),
        ms(percentile(&encode_times, 50)),
        ms(percentile(&encode_times, 95))
    );
    println!();
    println!("| output | size | bytes |");
    println!("|---|---|---:|");
    println!(
        "| display (q{}) | {}×{} | {} ({} KB) |",
        DISPLAY_QUALITY,
        photo.width,
        photo.height,
        photo.display.len(),
        kb(photo.display.len())
    );
    println!(
        "| thumbnail (q{}) | {}×{} | {} ({} KB) |",
        nongsan::media::THUMB_QUALITY,
        photo.thumb_width,
        photo.thumb_height,
        photo.thumb.len(),
        kb(photo.thumb.len())
    );
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn kb(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}
