//! An AssemblyScript filter replaced under load: weir watches the module file, and
//! overwriting it with a different build swaps the filter without one failed request.

use std::time::Duration;
use weir_tests::load::Load;
use weir_tests::net::{free_port, wait_until_async};
use weir_tests::{Backend, Weir};

#[allow(dead_code, reason = "this file uses some of the AssemblyScript filters")]
mod assemblyscript {
    include!(concat!(env!("OUT_DIR"), "/assemblyscript.rs"));
}

/// The `x-guest` value the backend saw on the last request that reached it.
fn last_seen(backend: &Backend) -> Option<String> {
    backend
        .requests()
        .last()
        .and_then(|r| r.header("x-guest").map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assemblyscript_filter_swapped_under_load_loses_nothing() {
    let backend = Backend::start("b").await;
    let port = free_port();
    let yaml = format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: main\n---\nkind: Pipeline\nname: main\nflow:\n  - filter: tag\n  - filter: proxy\nfilters:\n  - name: tag\n    kind: Wasm\n    module: tag.wasm\n  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"{}\"}}]}}]\n",
        backend.url()
    );
    let first = std::fs::read(assemblyscript::AS_SET_HEADER).unwrap();
    let second = std::fs::read(assemblyscript::AS_SET_HEADER_SWAPPED).unwrap();
    let weir = Weir::start_with_files(&yaml, &[("tag.wasm", &first)], &[port]);
    let module = weir.dir.path().join("tag.wasm");
    let load = Load::start(&format!("http://127.0.0.1:{port}/"), 8);

    assert!(
        wait_until_async(Duration::from_secs(10), || async { backend.hits() >= 50 }).await,
        "the load never got going"
    );
    assert_eq!(last_seen(&backend).as_deref(), Some("set"));
    // Back and forth, in place and by rename, as a build tool or an editor writes.
    for (swap, (bytes, expected)) in [(&second, "swapped"), (&first, "set"), (&second, "swapped")]
        .into_iter()
        .enumerate()
    {
        if swap % 2 == 0 {
            std::fs::write(&module, bytes).unwrap();
        } else {
            let temporary = module.with_extension("tmp");
            std::fs::write(&temporary, bytes).unwrap();
            std::fs::rename(&temporary, &module).unwrap();
        }
        assert!(
            wait_until_async(Duration::from_secs(20), || async {
                last_seen(&backend).as_deref() == Some(expected)
            })
            .await,
            "swap {swap} to `{expected}` never went live:\n{}",
            weir.stderr()
        );
    }
    let before = backend.hits();
    assert!(wait_until_async(Duration::from_secs(10), || async { backend.hits() >= before + 50 }).await);
    let tally = load.stop().await;
    assert!(
        tally.failures.is_empty(),
        "{} failed, e.g. {:?}",
        tally.failures.len(),
        &tally.failures[..1]
    );
    assert!(tally.ok >= 200, "the load was too light to prove anything: {tally:?}");
    // Once the last swap is live, every request carries the new build's header.
    let recent = backend.requests();
    let settled = recent
        .iter()
        .rev()
        .take(40)
        .all(|r| r.header("x-guest") == Some("swapped"));
    assert!(settled, "requests after the last swap still saw an older build");
    println!(
        "AssemblyScript swaps: {} requests, {:.0}/s, none failed",
        tally.ok,
        tally.requests_per_second()
    );
}
