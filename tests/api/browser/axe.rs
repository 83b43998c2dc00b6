//! The automated accessibility check: axe-core, run inside the page the test is looking at. axe-core is not part
//! of the build (no npm for building or running the app): `.ci/run` installs it with
//! `npm install --prefix target/axe axe-core@4`, and the tests find it there or at `NONGSAN_AXE_JS`. When it
//! is absent, each check says so and checks nothing; the rest of the test still runs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use super::page::Browser;

/// The impacts that fail a page.
const FAILING: &[&str] = &["serious", "critical"];

fn candidates() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(path) = std::env::var_os("NONGSAN_AXE_JS").filter(|path| !path.is_empty()) {
        paths.push(PathBuf::from(path));
    }
    let in_target = |target: &Path| target.join("axe/node_modules/axe-core/axe.min.js");
    // CARGO_TARGET_TMPDIR is `<target dir>/tmp`, wherever CARGO_TARGET_DIR puts it.
    if let Some(target) = Path::new(env!("CARGO_TARGET_TMPDIR")).parent() {
        paths.push(in_target(target));
    }
    paths.push(in_target(&Path::new(env!("CARGO_MANIFEST_DIR")).join("target")));
    paths
}

/// axe-core's source, read once.
fn source() -> Option<&'static str> {
    static SOURCE: OnceLock<Option<String>> = OnceLock::new();
    SOURCE.get_or_init(|| candidates().iter().find_map(|path| std::fs::read_to_string(path).ok())).as_deref()
}

/// Runs axe-core on the page shown and fails on a serious or critical violation (listing each with the
/// elements it concerns). Less severe findings are printed.
pub async fn check(browser: &Browser, page: &str) {
    let Some(source) = source() else {
        assert!(!super::driver::required(), "NONGSAN_BROWSER_TESTS=require, but axe-core is not installed");
        eprintln!(
            "skipped: accessibility check of {page} (axe-core not found: npm install --prefix target/axe axe-core@4, \
             or set NONGSAN_AXE_JS)"
        );
        return;
    };
    browser.script(source, vec![]).await;
    let violations = browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then((result) => done(result.violations.map((v) => ({
                 id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 6).map((n) => n.target.join(' ') + ' — ' + n.failureSummary),
               }))))
               .catch((error) => done({error: String(error)}));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("axe-core did not run on {page}: {e}"));
    let Value::Array(violations) = violations else { panic!("axe-core failed on {page}: {violations}") };
    let describe = |v: &Value| {
        let nodes: Vec<&str> = v["nodes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        format!("{} ({}): {}\n    {}", v["id"], v["impact"], v["help"], nodes.join("\n    "))
    };
    let (failing, minor): (Vec<&Value>, Vec<&Value>) =
        violations.iter().partition(|v| v["impact"].as_str().is_some_and(|impact| FAILING.contains(&impact)));
    for v in &minor {
        eprintln!("axe note on {page}: {}", describe(v));
    }
    let failing: Vec<String> = failing.into_iter().map(describe).collect();
    assert!(failing.is_empty(), "serious accessibility violations on {page}:\n{}", failing.join("\n"));
}
