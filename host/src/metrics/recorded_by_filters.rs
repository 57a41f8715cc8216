//! The figures a real pipeline records: a built-in WASM filter (Validator) and a Proxy
//! whose only backend refuses connections, built through the real kinds and run.

use crate::config::{parse_str, ObjectSpec};
use crate::http::{Body, Request};
use crate::pipeline::{BuildContext, FilterKinds, Pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_run_shows_in_its_status() {
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The registry is process-wide; a name of its own keeps other tests out.
    let name = "metrics-recorded-by-filters";
    let yaml = format!(
        r#"
kind: Pipeline
name: {name}
flow:
  - filter: check
    jumpIf: {{invalid: END}}
  - filter: proxy
filters:
  - name: check
    kind: Validator
    headers:
      x-key: {{values: [ok]}}
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: http://{closed}
"#
    );
    let objects = parse_str(&yaml, "test").unwrap();
    let ObjectSpec::Pipeline(spec) = &objects[0].spec else {
        panic!("not a pipeline")
    };
    let ctx = BuildContext::new(name, ".");
    let pipeline = Pipeline::build(spec, &FilterKinds::builtin(), &ctx).unwrap();
    let client = ([127, 0, 0, 1], 4000).into();

    let refused = pipeline.run(Request::new(Body::Empty), client).await;
    assert_eq!(refused.status(), 400);
    let mut passed = Request::new(Body::Empty);
    passed.headers_mut().insert("x-key", "ok".parse().unwrap());
    let unreachable = pipeline.run(passed, client).await;
    assert_eq!(unreachable.status(), 503);

    let status = super::global().status("Pipeline", name);
    let check = &status["filters"]["check"];
    assert_eq!(check["kind"], "Validator");
    assert_eq!(check["calls"], 2);
    assert_eq!(check["results"]["invalid"], 1);
    assert_eq!(check["results"][""], 1);
    assert_eq!(check["failures"]["trap"], 0);
    assert_eq!(check["modules"].as_array().unwrap().len(), 1);
    assert_eq!(check["modules"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(check["idleInstances"].as_u64().unwrap() >= 1);
    let main = &status["filters"]["proxy"]["mainPool"];
    assert_eq!(main["count"], 1);
    assert_eq!(main["errCount"], 1);
    assert_eq!(main["codes"]["503"], 1);
    assert_eq!(main["results"]["serverError"], 1);

    drop(pipeline);
    assert_eq!(
        super::global().status("Pipeline", name),
        serde_json::json!({ "filters": {} }),
        "a dropped pipeline leaves the status"
    );
}
