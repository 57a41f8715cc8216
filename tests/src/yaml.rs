//! The configurations most end-to-end tests start from, so each test states only what
//! it is about.

/// An HTTPServer named `front` on 127.0.0.1:`port` that sends every request to
/// `pipeline`.
pub fn front(port: u16, pipeline: &str) -> String {
    format!(
        "kind: HTTPServer\nname: front\nport: {port}\naddress: 127.0.0.1\nrules:\n  - paths:\n      - backend: {pipeline}\n"
    )
}

/// A pipeline named `name` whose only filter is a Proxy to `backend_url`.
pub fn proxy_pipeline(name: &str, backend_url: &str) -> String {
    format!(
        "kind: Pipeline\nname: {name}\nfilters:\n  - name: proxy\n    kind: Proxy\n    pools: [{{servers: [{{url: \"{backend_url}\"}}]}}]\n"
    )
}

/// [`front`] and a [`proxy_pipeline`] named `main` behind it, as one file.
pub fn front_and_proxy(port: u16, backend_url: &str) -> String {
    format!("{}---\n{}", front(port, "main"), proxy_pipeline("main", backend_url))
}

/// [`front`] and a pipeline named `main` behind it, as one file: `pipeline` is the rest
/// of the pipeline's YAML after its `kind` and `name` (`flow:`, `filters:`, …).
pub fn front_and_pipeline(port: u16, pipeline: &str) -> String {
    format!("{}---\nkind: Pipeline\nname: main\n{pipeline}", front(port, "main"))
}

/// [`front`] and a pipeline `main` that runs a Validator (refusing with `invalid` ends
/// the flow) before a Proxy to `backend_url`. `validator` is the Validator's own fields,
/// indented by four spaces.
pub fn validator_then_proxy(port: u16, validator: &str, backend_url: &str) -> String {
    front_and_pipeline(
        port,
        &format!(
            "flow:\n  - filter: validator\n    jumpIf: {{ invalid: END }}\n  - filter: proxy\nfilters:\n  - name: validator\n    kind: Validator\n{validator}  - name: proxy\n    kind: Proxy\n    pools:\n      - servers:\n          - url: {backend_url}\n"
        ),
    )
}
