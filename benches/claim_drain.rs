//! Load generator for `bench/claims.sh`: WORKERS concurrent partner workers (one HTTP connection each, keys
//! taken in turn from PARTNER_KEYS) claim CLAIM_LIMIT jobs per request from the service at BASE until an
//! answer holds none. Prints the jobs claimed, the wall time of the drain, claims and jobs per second,
//! latency percentiles, and whether any job was handed out twice.
//!
//! `BASE=http://127.0.0.1:18080 PARTNER_KEYS=k1,k2,k3 cargo bench --bench claim_drain` (release profile).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// One worker: claims until nothing is left; returns the job ids it got and each request's latency.
async fn worker(base: String, key: String, limit: u32) -> Result<(Vec<i64>, Vec<Duration>), String> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().map_err(|e| e.to_string())?;
    let body = serde_json::json!({"limit": limit, "lease_seconds": 600});
    let (mut jobs, mut latencies) = (Vec::new(), Vec::new());
    loop {
        let started = Instant::now();
        let answer = client
            .post(format!("{base}/api/v1/partner/jobs/claim"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| e.to_string())?;
        latencies.push(started.elapsed());
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        let claimed: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let ids: Vec<i64> = claimed["jobs"].as_array().into_iter().flatten().filter_map(|j| j["id"].as_i64()).collect();
        if ids.is_empty() {
            return Ok((jobs, latencies));
        }
        jobs.extend(ids);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let base = setting("BASE", "http://127.0.0.1:18080");
    let keys: Vec<String> =
        setting("PARTNER_KEYS", "").split(',').filter(|k| !k.is_empty()).map(str::to_owned).collect();
    let workers: usize = setting("WORKERS", "8").parse().map_err(|_| "WORKERS must be a number")?;
    let limit: u32 = setting("CLAIM_LIMIT", "1").parse().map_err(|_| "CLAIM_LIMIT must be a number")?;
    if keys.is_empty() {
        return Err("PARTNER_KEYS is empty".into());
    }
    let started = Instant::now();
    let tasks: Vec<_> =
        (0..workers).map(|n| tokio::spawn(worker(base.clone(), keys[n % keys.len()].clone(), limit))).collect();
    let (mut jobs, mut latencies) = (Vec::new(), Vec::new());
    for task in tasks {
        let (ids, times) = task.await.map_err(|e| e.to_string())??;
        jobs.extend(ids);
        latencies.extend(times);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let distinct: HashSet<i64> = jobs.iter().copied().collect();
    println!("jobs claimed: {}", jobs.len());
    println!("handed out twice: {}", jobs.len() - distinct.len());
    println!("claim requests: {} ({} empty answers ended the workers)", latencies.len(), workers);
    println!("drain time: {elapsed:.2} s");
    println!("jobs/s: {:.0}", jobs.len() as f64 / elapsed);
    println!("claim requests/s: {:.0}", latencies.len() as f64 / elapsed);
    println!(
        "latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3
    );
    Ok(())
}
