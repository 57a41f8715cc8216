//! The orchestrator driven by scripted test filters, built through a real kind.

use super::*;
use crate::config::parse_str;
use crate::config::ObjectSpec;
use crate::http::Body;
use std::sync::Mutex;

/// A filter whose behaviour comes from its spec: `result` (a result string), `respond`
/// (a status to answer with), `set` (a status to store as the response without ending),
/// `afterwards` (a status its response phase answers with).
struct Scripted {
    name: String,
    spec: serde_yaml::Value,
    log: Arc<Mutex<Vec<String>>>,
}

struct ScriptedKind(Arc<Mutex<Vec<String>>>);

impl FilterKind for ScriptedKind {
    fn name(&self) -> &'static str {
        "Scripted"
    }

    fn build(&self, spec: &crate::config::FilterSpec, _: &BuildContext) -> Result<BuiltFilter, FieldError> {
        Ok(BuiltFilter {
            filter: Arc::new(Scripted {
                name: spec.name.clone(),
                spec: spec.spec.clone(),
                log: self.0.clone(),
            }),
            results: vec!["x".into(), "y".into()],
        })
    }
}

fn status(v: &serde_yaml::Value) -> http::StatusCode {
    http::StatusCode::from_u16(v.as_u64().unwrap() as u16).unwrap()
}

impl Filter for Scripted {
    fn on_request<'a>(&'a self, ctx: &'a mut Context, ns: NamespaceId) -> FilterFuture<'a> {
        Box::pin(async move {
            self.log.lock().unwrap().push(format!("{}@{}", self.name, ns.0));
            if let Some(code) = self.spec.get("set") {
                ctx.set_response(ns, responses::empty(status(code)));
            }
            if let Some(code) = self.spec.get("respond") {
                return Outcome::Respond(Box::new(responses::empty(status(code))));
            }
            match self.spec.get("result").and_then(|r| r.as_str()) {
                Some(r) => Outcome::Result(r.to_string().into()),
                None => Outcome::Continue,
            }
        })
    }

    fn has_response_phase(&self) -> bool {
        self.spec.get("afterwards").is_some()
    }

    fn on_response<'a>(&'a self, _: &'a mut Context, _: NamespaceId) -> FilterFuture<'a> {
        Box::pin(async move {
            self.log.lock().unwrap().push(format!("{}:response", self.name));
            Outcome::Respond(Box::new(responses::empty(status(self.spec.get("afterwards").unwrap()))))
        })
    }
}

async fn run(yaml: &str) -> (u16, Vec<String>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut kinds = FilterKinds::default();
    kinds.add(Arc::new(ScriptedKind(log.clone())));
    let objects = parse_str(yaml, "test").unwrap();
    let ObjectSpec::Pipeline(spec) = &objects[0].spec else {
        panic!()
    };
    let ctx = BuildContext::new(spec.name.clone(), ".");
    let pipeline = Pipeline::build(spec, &kinds, &ctx).unwrap();
    let response = pipeline
        .run(Request::new(Body::Empty), ([127, 0, 0, 1], 1).into())
        .await;
    let calls = log.lock().unwrap().clone();
    (response.status().as_u16(), calls)
}

const FILTERS: &str = "filters:\n  - {name: a, kind: Scripted, set: 200}\n  - {name: b, kind: Scripted, result: x}\n  - {name: c, kind: Scripted, set: 201}\n";

#[tokio::test]
async fn definition_order_and_implicit_end() {
    // b returns "x" with no jumpIf: the pipeline ends there, c never runs.
    let (code, calls) = run(&format!("kind: Pipeline\nname: p\n{FILTERS}")).await;
    assert_eq!((code, calls), (200, vec!["a@0".to_string(), "b@0".to_string()]));
}

#[tokio::test]
async fn jump_if_skips_forward_and_end_stops() {
    let flow = "flow:\n  - filter: a\n    jumpIf: {\"\": c}\n  - filter: b\n  - filter: c\n  - filter: END\n  - filter: b\n    alias: unreachable\n";
    let (code, calls) = run(&format!("kind: Pipeline\nname: p\n{flow}{FILTERS}")).await;
    assert_eq!((code, calls), (201, vec!["a@0".to_string(), "c@0".to_string()]));

    let flow = "flow:\n  - filter: b\n    jumpIf: {x: END}\n  - filter: c\n";
    let (code, calls) = run(&format!("kind: Pipeline\nname: p\n{flow}{FILTERS}")).await;
    assert_eq!(
        (code, calls),
        (503, vec!["b@0".to_string()]),
        "no response in DEFAULT gives 503"
    );
}

#[tokio::test]
async fn aliases_let_a_filter_run_twice_and_namespaces_are_separate() {
    let flow = "flow:\n  - filter: c\n    namespace: other\n  - filter: a\n    alias: again\n    namespace: third\n  - filter: c\n    alias: c2\n";
    let (code, calls) = run(&format!("kind: Pipeline\nname: p\n{flow}{FILTERS}")).await;
    assert_eq!(calls, vec!["c@1", "a@2", "c@0"]);
    assert_eq!(code, 201, "only the DEFAULT response is sent");

    let flow = "flow:\n  - filter: c\n    namespace: other\n";
    let (code, _) = run(&format!("kind: Pipeline\nname: p\n{flow}{FILTERS}")).await;
    assert_eq!(code, 503, "a response in another namespace is not the client's");
}

#[tokio::test]
async fn respond_ends_the_flow_and_response_phases_run_in_reverse() {
    let filters = "filters:\n  - {name: outer, kind: Scripted, afterwards: 299}\n  - {name: inner, kind: Scripted, afterwards: 298}\n  - {name: stop, kind: Scripted, respond: 202}\n  - {name: never, kind: Scripted}\n";
    let (code, calls) = run(&format!("kind: Pipeline\nname: p\n{filters}")).await;
    assert_eq!(
        calls,
        vec!["outer@0", "inner@0", "stop@0", "inner:response", "outer:response"]
    );
    assert_eq!(code, 299, "the outermost response phase has the last word");
}
