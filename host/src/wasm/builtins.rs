//! The built-in filter components, compiled from `builtin-filters/` by `build.rs` and
//! embedded in the binary.

/// One built-in kind.
pub struct Builtin {
    pub kind: &'static str,
    pub component: &'static [u8],
    /// The results it may return (Easegress's, from its code).
    pub results: &'static [&'static str],
    /// Whether it is a guard, wrapping the step after it (CircuitBreaker, Retry,
    /// TimeLimiter).
    pub guard: bool,
}

macro_rules! component {
    ($file:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/builtin-filters/", $file))
    };
}

pub static BUILTINS: &[Builtin] = &[
    Builtin {
        kind: "Validator",
        component: component!("weir_validator.wasm"),
        results: &["invalid"],
        guard: false,
    },
    Builtin {
        kind: "Mock",
        component: component!("weir_mock.wasm"),
        results: &["mocked"],
        guard: false,
    },
    Builtin {
        kind: "RequestAdaptor",
        component: component!("weir_request_adaptor.wasm"),
        results: &["decompressFailed", "compressFailed"],
        guard: false,
    },
    Builtin {
        kind: "ResponseAdaptor",
        component: component!("weir_response_adaptor.wasm"),
        results: &["responseNotFound", "compressFailed", "decompressFailed"],
        guard: false,
    },
    Builtin {
        kind: "RequestBuilder",
        component: component!("weir_request_builder.wasm"),
        results: &["buildErr"],
        guard: false,
    },
    Builtin {
        kind: "ResponseBuilder",
        component: component!("weir_response_builder.wasm"),
        results: &["buildErr"],
        guard: false,
    },
    Builtin {
        kind: "ResultBuilder",
        component: component!("weir_result_builder.wasm"),
        results: &[
            "result0", "result1", "result2", "result3", "result4", "result5", "result6", "result7", "result8",
            "result9", "buildErr", "unknown",
        ],
        guard: false,
    },
    Builtin {
        kind: "RateLimiter",
        component: component!("weir_rate_limiter.wasm"),
        results: &["rateLimited"],
        guard: false,
    },
    Builtin {
        kind: "CORSAdaptor",
        component: component!("weir_cors_adaptor.wasm"),
        results: &["preflighted", "rejected"],
        guard: false,
    },
    Builtin {
        kind: "Redirector",
        component: component!("weir_redirector.wasm"),
        results: &["redirected"],
        guard: false,
    },
    Builtin {
        kind: "Fallback",
        component: component!("weir_fallback.wasm"),
        results: &["fallback", "responseNotFound"],
        guard: false,
    },
    Builtin {
        kind: "IPFilter",
        component: component!("weir_ip_filter.wasm"),
        results: &["blocked"],
        guard: false,
    },
    Builtin {
        kind: "HeaderToJSON",
        component: component!("weir_header_to_json.wasm"),
        results: &["jsonEncodeDecodeErr", "bodyReadErr"],
        guard: false,
    },
    Builtin {
        kind: "DataBuilder",
        component: component!("weir_data_builder.wasm"),
        results: &["buildErr"],
        guard: false,
    },
    Builtin {
        kind: "CircuitBreaker",
        component: component!("weir_circuit_breaker.wasm"),
        results: &["shortCircuited"],
        guard: true,
    },
    Builtin {
        kind: "Retry",
        component: component!("weir_retry.wasm"),
        results: &[],
        guard: true,
    },
    Builtin {
        kind: "TimeLimiter",
        component: component!("weir_time_limiter.wasm"),
        results: &["timeout"],
        guard: true,
    },
];
