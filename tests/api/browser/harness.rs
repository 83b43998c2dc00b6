//! The harness checked against itself: what it must catch, it catches (a console error, a script the CSP
//! refuses), and it counts fields typed and choices picked but not taps.

use super::page::Browser;
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_sees_console_errors_and_csp_violations_and_counts_inputs_not_taps() {
    let app = TestApp::sqlite().await;
    let Some(mut browser) = Browser::start(&app, "harness").await else { return };

    browser.open("/").await;
    browser.tap("Giỏ hàng").await;
    assert_eq!(browser.path().await, "/basket");
    assert!(browser.inputs().is_empty(), "a tap is not an input: {:?}", browser.inputs());
    browser.open("/").await;
    browser.type_into("#q", "ca phe").await;
    browser.choose("#province").await;
    assert_eq!(browser.inputs().len(), 2, "{:?}", browser.inputs());

    browser.assert_no_console_errors().await;
    // An inline script, which the Content-Security-Policy refuses, and an error written by a script.
    browser
        .script(
            "const inline = document.createElement('script');
             inline.textContent = 'window.ranInline = true;';
             document.body.append(inline);
             console.error('probe: an error a page script wrote');",
            vec![],
        )
        .await;
    let ran = browser.script("return window.ranInline === true;", vec![]).await;
    assert_eq!(ran, false, "the CSP stops inline scripts");
    let errors: Vec<String> =
        browser.console().await.iter().filter(|line| line.level == "SEVERE").map(|line| line.message.clone()).collect();
    assert!(errors.iter().any(|e| e.contains("Content Security Policy")), "CSP violation seen: {errors:?}");
    assert!(errors.iter().any(|e| e.contains("probe: an error a page script wrote")), "{errors:?}");
    let caught = tokio::spawn(async move { browser.assert_no_console_errors().await }).await;
    assert!(caught.is_err(), "assert_no_console_errors fails on these errors");
}
