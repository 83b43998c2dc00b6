//! A person at a cheap Android phone, as a test drives them: headless Chromium at 360×740 CSS pixels with touch,
//! Vietnamese first. The API reads like what the person does: `open(path)`, `type_into(selector, text)`,
//! `choose(selector)`, `tap(text)`, and what the test checks: `screenshot(name)`, `axe()`, `inputs()`, the
//! console. An input is a field typed or a choice picked (`type_into`, `choose`, `choose_labelled`); taps on
//! buttons and links do not count.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::axe;
use super::driver::{self, SessionCommand, Tools};
use crate::helpers::TestApp;

/// The viewport of the phones the app is designed for (UI.md).
pub const WIDTH: u32 = 360;
pub const HEIGHT: u32 = 740;

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// The least time between two taps of a person on one page (more than Chromium's double-tap time).
const HUMAN_BEAT: Duration = Duration::from_millis(400);

/// What a browser session is opened with.
#[derive(Clone, Default)]
pub struct Options {
    /// Chromium's performance log (every DevTools network event), for the page-weight benchmark.
    pub performance_log: bool,
}

/// One line of the browser's console.
#[derive(Clone, Debug)]
pub struct ConsoleLine {
    pub level: String,
    pub source: String,
    pub message: String,
}

pub struct Browser {
    client: Client,
    base: String,
    driver: String,
    session: String,
    inputs: Vec<String>,
    console: Vec<ConsoleLine>,
    name: String,
}

/// The message a browser test prints when it cannot run here, and passes.
pub fn skip_message(reason: &str) -> String {
    format!("skipped: browser test not run ({reason})")
}

impl Browser {
    /// A fresh browser (new profile, no cookies, empty cache) on the app, or `None` after saying why the test is
    /// skipped (`NONGSAN_BROWSER_TESTS=skip`, no Chromium, no chromedriver).
    pub async fn start(app: &TestApp, name: &str) -> Option<Browser> {
        Browser::start_on(&app.address, name, Options::default()).await
    }

    pub async fn start_on(base: &str, name: &str, options: Options) -> Option<Browser> {
        let tools = match driver::tools() {
            Ok(tools) => tools,
            Err(reason) => {
                assert!(!driver::required(), "NONGSAN_BROWSER_TESTS=require, but {reason}");
                eprintln!("{}", skip_message(&reason));
                return None;
            }
        };
        let address = driver::driver_address(&tools);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities(&tools, &options))
            .connect(&address)
            .await
            .expect("a Chromium session opens through chromedriver");
        // The session is ended by `Drop` (also when a test fails), not by the client's own task.
        client.persist().await.expect("session kept until the test drops it");
        let session = client.session_id().await.expect("session id").expect("a session id");
        Some(Browser {
            client,
            base: base.trim_end_matches('/').to_owned(),
            driver: address,
            session,
            inputs: Vec::new(),
            console: Vec::new(),
            name: name.to_owned(),
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens a page of the app as if its address were typed (not an input: people arrive by a link).
    pub async fn open(&mut self, path: &str) {
        self.client.goto(&self.url(path)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.settle().await;
    }

    /// The path and query of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Types `text` into the field at `selector`, as a person would (one input).
    pub async fn type_into(&mut self, selector: &str, text: &str) {
        let field = self.visible(selector).await;
        self.bring_into_view(&field).await;
        field.click().await.unwrap_or_else(|e| panic!("focus {selector}: {e}"));
        field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {selector}: {e}"));
        self.inputs.push(format!("typed {text:?} into {selector}"));
        // The tap into the next field comes a beat later, as a person's does (see `press`).
        tokio::time::sleep(HUMAN_BEAT).await;
    }

    /// Gives the file input at `selector` the file at `path`, as picking a photo from the camera does (one
    /// input). File inputs are often drawn as a label; the input itself may be invisible.
    pub async fn attach(&mut self, selector: &str, path: &Path) {
        let field = self.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("find {selector}: {e}"));
        field.send_keys(&path.display().to_string()).await.unwrap_or_else(|e| panic!("attach to {selector}: {e}"));
        self.inputs.push(format!("attached {} to {selector}", path.display()));
    }

    /// Picks the choice at `selector` (a radio button, a suggestion): one input.
    pub async fn choose(&mut self, selector: &str) {
        let choice = self.visible(selector).await;
        self.press(&choice, selector).await;
        self.inputs.push(format!("chose {selector}"));
    }

    /// Picks the choice (a radio's label, a suggestion) whose words contain `text`: one input.
    pub async fn choose_labelled(&mut self, text: &str) {
        let xpath = format!(
            "//*[self::label or @role='option' or @role='radio'][contains(normalize-space(.), {})]",
            xpath_literal(text)
        );
        let choice = self.visible_xpath(&xpath, text).await;
        self.press(&choice, text).await;
        self.inputs.push(format!("chose {text:?}"));
    }

    /// Taps the button or link that says `text` (exactly, else the first that contains it): not an input.
    pub async fn tap(&mut self, text: &str) {
        let literal = xpath_literal(text);
        let tappable = "*[self::button or self::a or @role='button' or @role='option']";
        let exact = format!("//{tappable}[normalize-space(.)={literal}]");
        let containing = format!("//{tappable}[contains(normalize-space(.), {literal})]");
        let target = match self.first_visible(Locator::XPath(&exact)).await {
            Some(target) => target,
            None => self.visible_xpath(&containing, text).await,
        };
        self.press(&target, text).await;
    }

    /// Types `digits` on the page's big PIN keypad, one tap per digit (taps, not inputs).
    pub async fn tap_keypad(&mut self, digits: &str) {
        for digit in digits.chars() {
            self.tap_on(&format!(".keypad button[data-key='{digit}']")).await;
        }
    }

    /// Taps the element at `selector`: not an input.
    pub async fn tap_on(&mut self, selector: &str) {
        let target = self.visible(selector).await;
        self.press(&target, selector).await;
    }

    /// Inputs so far (fields typed, choices picked), each described.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The words of the element at `selector` as shown.
    pub async fn text(&self, selector: &str) -> String {
        self.visible(selector).await.text().await.unwrap_or_else(|e| panic!("text of {selector}: {e}"))
    }

    /// Waits until the element at `selector` shows `text`; its words then.
    pub async fn wait_for_text(&self, selector: &str, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let shown = match self.first_visible(Locator::Css(selector)).await {
                Some(element) => element.text().await.unwrap_or_default(),
                None => String::new(),
            };
            if shown.contains(text) {
                return shown;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{selector} never showed {text:?}; it shows {shown:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `script` in the page (the last statement's `return` is the answer).
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// A DevTools protocol command, through chromedriver.
    pub async fn cdp(&self, command: &str, params: Value) -> Value {
        let body = json!({"cmd": command, "params": params});
        self.client
            .issue_cmd(SessionCommand { path: "goog/cdp/execute", body })
            .await
            .unwrap_or_else(|e| panic!("DevTools {command}: {e}"))
    }

    /// Saves what the phone shows (the top of the page, 360×740) as `docs/screens/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);", vec![]).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screens_dir();
        std::fs::create_dir_all(&dir).expect("screens directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot saved");
        path
    }

    /// The accessibility check (axe-core) of the page shown: fails on a serious or critical violation. Says so
    /// and checks nothing when axe-core is not installed.
    pub async fn axe(&self) {
        let page = self.path().await;
        axe::check(self, &page).await;
    }

    /// What a person sees on a page, checked: no serious accessibility violation, no console error so far, and
    /// the screen saved as `name`.
    pub async fn look(&mut self, name: &str) {
        self.axe().await;
        self.assert_no_console_errors().await;
        self.screenshot(name).await;
    }

    /// The console lines since the session opened.
    pub async fn console(&mut self) -> &[ConsoleLine] {
        let answer = self
            .client
            .issue_cmd(SessionCommand { path: "se/log", body: json!({"type": "browser"}) })
            .await
            .expect("the browser's console");
        for line in answer.as_array().into_iter().flatten() {
            let text = |key: &str| line[key].as_str().unwrap_or_default().to_owned();
            self.console.push(ConsoleLine { level: text("level"), source: text("source"), message: text("message") });
        }
        &self.console
    }

    /// Fails on any error the console has shown (a script error, a failed load, a CSP violation).
    pub async fn assert_no_console_errors(&mut self) {
        let page = self.path().await;
        let errors: Vec<String> = self
            .console()
            .await
            .iter()
            .filter(|line| line.level == "SEVERE")
            .map(|line| format!("[{}] {}", line.source, line.message))
            .collect();
        assert!(errors.is_empty(), "console errors (last page {page}):\n{}", errors.join("\n"));
    }

    /// Fails the test, keeping what the phone showed (screen and HTML) beside the driver's log.
    async fn fail(&self, message: &str) -> ! {
        let page = self.path().await;
        let stem = driver::log_dir().join(format!("{}.failed", self.name)).display().to_string();
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(format!("{stem}.png"), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(format!("{stem}.html"), html);
        }
        panic!("{message} (on {page}; screen and HTML kept as {stem}.png and .html)");
    }

    /// Taps an element; when it is a link or a form's submit button, waits for the next page to load.
    async fn press(&mut self, element: &Element, what: &str) {
        self.bring_into_view(element).await;
        let arg = serde_json::to_value(element).expect("element reference");
        let leaves = self
            .script(
                "const el = arguments[0];
                 window.__nongsanStillHere = true;
                 return !!(el.closest('a[href]') || (el.type === 'submit' && el.form));",
                vec![arg],
            )
            .await;
        element.click().await.unwrap_or_else(|e| panic!("tap {what}: {e}"));
        if leaves != Value::Bool(true) {
            // A person's next tap comes a beat later; two taps within Chromium's double-tap time become one
            // gesture under touch emulation, and the keys typed after it are lost.
            tokio::time::sleep(HUMAN_BEAT).await;
        } else {
            let deadline = Instant::now() + PATIENCE;
            while self.script("return window.__nongsanStillHere === true;", vec![]).await == Value::Bool(true) {
                if Instant::now() > deadline {
                    self.fail(&format!("tapping {what:?} did not lead to another page")).await;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        self.settle().await;
    }

    /// Centres an element, away from the sticky bottom bar that would take the tap.
    async fn bring_into_view(&self, element: &Element) {
        let arg = serde_json::to_value(element).expect("element reference");
        self.script("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", vec![arg]).await;
    }

    /// Waits for the page to finish loading after a navigation.
    async fn settle(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.script("return document.readyState;", vec![]).await != "complete" {
            assert!(Instant::now() < deadline, "page still loading after {PATIENCE:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn first_visible(&self, locator: Locator<'_>) -> Option<Element> {
        for element in self.client.find_all(locator).await.unwrap_or_default() {
            if element.is_displayed().await.unwrap_or(false) {
                return Some(element);
            }
        }
        None
    }

    /// The first visible element at `selector`, waited for.
    async fn visible(&self, selector: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(element) = self.first_visible(Locator::Css(selector)).await {
                return element;
            }
            if Instant::now() > deadline {
                self.fail(&format!("nothing visible at {selector}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn visible_xpath(&self, xpath: &str, what: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(element) = self.first_visible(Locator::XPath(xpath)).await {
                return element;
            }
            if Instant::now() > deadline {
                self.fail(&format!("nothing visible says {what:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let lines: Vec<String> =
            self.console.iter().map(|line| format!("{} [{}] {}", line.level, line.source, line.message)).collect();
        let _ = std::fs::write(driver::log_dir().join(format!("{}.console.log", self.name)), lines.join("\n"));
        driver::delete_session(&self.driver, &self.session);
    }
}

/// Where screenshots go: `docs/screens/` of the repository (or `NONGSAN_SCREENS_DIR`).
pub fn screens_dir() -> PathBuf {
    match std::env::var_os("NONGSAN_SCREENS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screens"),
    }
}

/// `text` as an XPath string literal.
fn xpath_literal(text: &str) -> String {
    if text.contains('\'') { format!("\"{text}\"") } else { format!("'{text}'") }
}

/// Headless Chromium as a cheap Android phone: 360×740 CSS pixels at 2 device pixels each, touch, an Android
/// user agent, Vietnamese first; the console kept.
fn capabilities(tools: &Tools, options: &Options) -> serde_json::Map<String, Value> {
    let mut logging = json!({"browser": "ALL"});
    if options.performance_log {
        logging["performance"] = json!("ALL");
    }
    let capabilities = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": logging,
        "goog:chromeOptions": {
            "binary": tools.chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--hide-scrollbars",
                "--force-color-profile=srgb",
                "--lang=vi-VN",
                "--accept-lang=vi-VN,vi",
                format!("--window-size={WIDTH},{HEIGHT}"),
            ],
            "prefs": {"intl.accept_languages": "vi-VN,vi"},
            "mobileEmulation": {
                "deviceMetrics": {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2.0, "touch": true},
                "userAgent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) \
                              Chrome/120.0.0.0 Mobile Safari/537.36",
            },
        },
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("capabilities are an object"),
    }
}
