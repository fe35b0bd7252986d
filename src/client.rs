//! `buyerpath import` and `buyerpath export`: the command line of a running service's import
//! and export (issue 21). The file is uploaded, the job followed until it ends — with a
//! progress bar on a terminal, plain lines otherwise — and its row report written beside the
//! file.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::{ExportArgs, ImportArgs};

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))
}

fn token(path: &Path) -> Result<String, String> {
    let t = std::fs::read_to_string(path)
        .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
    Ok(t.trim().to_string())
}

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("buyerpath-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// The body of an answer as JSON.
async fn json(res: reqwest::Response) -> Result<serde_json::Value, String> {
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the answer is not JSON: {e}"))
}

/// A failed answer as one line: the problem's detail and each field's message.
async fn failure(res: reqwest::Response) -> String {
    let status = res.status();
    let body: serde_json::Value = json(res).await.unwrap_or_default();
    let mut line = format!(
        "{status}: {}",
        body["detail"].as_str().unwrap_or("(no detail)")
    );
    for e in body["errors"].as_array().into_iter().flatten() {
        line.push_str(&format!(
            "\n  {}: {}",
            e["field"].as_str().unwrap_or_default(),
            e["message"].as_str().unwrap_or_default()
        ));
    }
    line
}

/// Where the row report of `file` goes: `accounts.csv` → `accounts.report.csv`.
pub fn report_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("import");
    file.with_file_name(format!("{stem}.report.csv"))
}

/// One line of progress: rows, rate and time left.
pub fn progress_line(done: i64, total: i64, elapsed: Duration, bar: bool) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = done as f64 / secs;
    let left = if rate > 0.0 {
        format!("{:.0}s left", (total - done).max(0) as f64 / rate)
    } else {
        "…".to_string()
    };
    let counts = format!("{done}/{total} rows, {rate:.0} rows/s, {left}");
    if !bar {
        return counts;
    }
    let width = 30usize;
    let filled = if total > 0 {
        (done as usize * width) / total as usize
    } else {
        0
    }
    .min(width);
    format!(
        "[{}{}] {counts}",
        "#".repeat(filled),
        ".".repeat(width - filled)
    )
}

pub fn import(args: &ImportArgs) -> Result<(), String> {
    runtime()?.block_on(import_async(args))
}

async fn import_async(a: &ImportArgs) -> Result<(), String> {
    let token = token(&a.token_file)?;
    let base = a.url.trim_end_matches('/');
    let http = client()?;
    let id = upload(&http, base, &token, a).await?;
    let job = follow(&http, base, &token, &id).await?;
    let report = get(&http, &format!("{base}/v1/imports/{id}/report.csv"), &token).await?;
    let bytes = report.bytes().await.map_err(|e| e.to_string())?;
    let path = report_path(&a.file);
    std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{} — report: {}", summary(&job), path.display());
    std::io::stdout().flush().ok();
    match job["status"].as_str() {
        Some("succeeded") => Ok(()),
        _ => Err(format!("the job ended {}", job["status"])),
    }
}

/// Uploads the file; the job's id.
async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    a: &ImportArgs,
) -> Result<String, String> {
    let body = std::fs::read(&a.file).map_err(|e| format!("{}: {e}", a.file.display()))?;
    let url = format!(
        "{base}/v1/imports?resource={}&source={}&dry_run={}",
        a.resource, a.source, a.dry_run
    );
    let res = http
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("{base}: {e}"))?;
    if !res.status().is_success() {
        return Err(failure(res).await);
    }
    let job = json(res).await?;
    Ok(job["id"].as_str().unwrap_or_default().to_string())
}

/// A successful answer to a GET, or the failure.
async fn get(http: &reqwest::Client, url: &str, token: &str) -> Result<reqwest::Response, String> {
    let res = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(res)
    } else {
        Err(failure(res).await)
    }
}

/// Follows the job until it ends, showing its progress on stderr; the job as it ended.
async fn follow(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
) -> Result<serde_json::Value, String> {
    let bar = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last_line = Instant::now() - Duration::from_secs(10);
    loop {
        let job = json(get(http, &format!("{base}/v1/imports/{id}"), token).await?).await?;
        let (done, total) = (
            job["processed_rows"].as_i64().unwrap_or(0),
            job["total_rows"].as_i64().unwrap_or(0),
        );
        let ended = !matches!(job["status"].as_str(), Some("queued" | "running"));
        if bar {
            eprint!("\r{}", progress_line(done, total, started.elapsed(), true));
        } else if ended || last_line.elapsed() >= Duration::from_secs(2) {
            eprintln!("{}", progress_line(done, total, started.elapsed(), false));
            last_line = Instant::now();
        }
        if ended {
            if bar {
                eprintln!();
            }
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `succeeded: 2 created, 0 updated, 0 unchanged, 1 failed` (and the unmapped values).
fn summary(job: &serde_json::Value) -> String {
    let n = |k: &str| job[k].as_i64().unwrap_or(0);
    let unmapped = match job["unmapped_values"].as_array() {
        Some(v) if !v.is_empty() => {
            format!("; unmapped values: {}", serde_json::Value::Array(v.clone()))
        }
        _ => String::new(),
    };
    format!(
        "{}{}: {} created, {} updated, {} unchanged, {} failed{unmapped}",
        job["status"].as_str().unwrap_or_default(),
        if job["dry_run"] == true {
            " (dry run)"
        } else {
            ""
        },
        n("created"),
        n("updated"),
        n("unchanged"),
        n("failed_rows"),
    )
}

pub fn export(args: &ExportArgs) -> Result<(), String> {
    runtime()?.block_on(export_async(args))
}

async fn export_async(a: &ExportArgs) -> Result<(), String> {
    let token = token(&a.token_file)?;
    let base = a.url.trim_end_matches('/');
    let mut res = client()?
        .get(format!("{base}/v1/exports/{}.csv", a.resource))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| format!("{base}: {e}"))?;
    if !res.status().is_success() {
        return Err(failure(res).await);
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.csv", a.resource)));
    let mut file = std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut bytes = 0usize;
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        bytes += chunk.len();
        file.write_all(&chunk)
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    println!("{}: {bytes} bytes", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_and_report_paths() {
        assert_eq!(
            progress_line(50, 200, Duration::from_secs(10), false),
            "50/200 rows, 5 rows/s, 30s left"
        );
        assert!(progress_line(100, 200, Duration::from_secs(1), true)
            .starts_with("[###############...............] 100/200"));
        assert_eq!(
            report_path(Path::new("/tmp/a/accounts.csv")),
            Path::new("/tmp/a/accounts.report.csv")
        );
    }
}
