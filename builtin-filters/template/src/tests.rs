//! The template language as the Easegress docs use it.

use crate::{Template, Value};
use serde_json::json;

fn render(source: &str, data: Value) -> String {
    Template::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} does not parse: {e}"))
        .render(&data)
        .unwrap_or_else(|e| panic!("{source:?} does not render: {e}"))
}

fn responses() -> Value {
    json!({
        "responses": {
            "demo1": {"StatusCode": 503, "Body": "", "JSONBody": null},
            "demo2": {"StatusCode": 200, "Body": "{\"hello\":\"world\"}", "JSONBody": {"hello": "world"}},
            "demo3": {"StatusCode": 200, "Body": "{\"hello\":\"new world\"}", "JSONBody": {"hello": "new world"}},
        }
    })
}

#[test]
fn fields_text_and_missing_values() {
    let data = json!({"requests": {"DEFAULT": {"Method": "GET", "Header": {"X-Id": ["7"]}}}});
    assert_eq!(render("m={{.requests.DEFAULT.Method}}", data.clone()), "m=GET");
    assert_eq!(render("{{.requests.other.Method}}", data.clone()), "<no value>");
    assert_eq!(render(r#"{{header .requests.DEFAULT.Header "x-id"}}"#, data), "7");
}

#[test]
fn trims_and_comments() {
    assert_eq!(render("a  {{- 1 -}}  b{{/* gone */}}", json!({})), "a1b");
    assert_eq!(render("{{- /* c */ -}}\n x", json!({})), "x");
}

#[test]
fn merge_example_merges_later_wins_and_skips_failures() {
    let out = render(
        "{{mergeObject .responses.demo1.JSONBody .responses.demo2.JSONBody .responses.demo3.JSONBody | toRawJson}}",
        responses(),
    );
    assert_eq!(out, r#"{"hello":"new world"}"#);
    let nested = render(
        "{{mergeObject .a .b | toRawJson}}",
        json!({"a": {"x": {"p": 1, "q": 1}}, "b": {"x": {"q": 2}, "y": 3}}),
    );
    assert_eq!(nested, r#"{"x":{"p":1,"q":2},"y":3}"#);
}

#[test]
fn failure_example_ranges_assigns_and_breaks() {
    // The status line of the docs' "Handle Failures" example.
    let status = "{{$code := 503}}{{range $resp := .responses}}{{if eq $resp.StatusCode 200}}{{$code = 200}}{{break}}{{end}}{{end}}{{$code}}";
    assert_eq!(render(status, responses()), "200");
    assert_eq!(render(status, json!({"responses": {"a": {"StatusCode": 503}}})), "503");
    let body = "{{$first := true -}}\n[{{range $resp := .responses -}}\n  {{if eq $resp.StatusCode 200 -}}\n    {{if not $first}},{{end}}{{$resp.Body}}{{$first = false -}}\n  {{- end}}\n{{- end}}]";
    assert_eq!(
        render(body, responses()),
        r#"[{"hello":"world"},{"hello":"new world"}]"#
    );
}

#[test]
fn if_else_if_else_and_comparisons() {
    let t = Template::parse(r#"{{if gt .n 10}}big{{else if eq .n 5 6}}five-or-six{{else}}other{{end}}"#).unwrap();
    assert_eq!(t.render(&json!({"n": 11})).unwrap(), "big");
    assert_eq!(t.render(&json!({"n": 6})).unwrap(), "five-or-six");
    assert_eq!(t.render(&json!({"n": 1})).unwrap(), "other");
    assert_eq!(render("{{if and .a (not .b)}}y{{end}}", json!({"a": 1, "b": ""})), "y");
    assert_eq!(render("{{or .missing \"fallback\"}}", json!({})), "fallback");
}

#[test]
fn range_forms_continue_and_else() {
    let data = json!({"items": ["a", "b", "c"], "map": {"z": 1, "a": 2}});
    assert_eq!(
        render("{{range $i, $v := .items}}{{$i}}={{$v}};{{end}}", data.clone()),
        "0=a;1=b;2=c;"
    );
    assert_eq!(
        render(
            "{{range .items}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}",
            data.clone()
        ),
        "ac"
    );
    assert_eq!(
        render("{{range $k, $v := .map}}{{$k}}{{$v}}{{end}}", data.clone()),
        "a2z1"
    );
    assert_eq!(render("{{range .none}}x{{else}}empty{{end}}", data), "empty");
}

#[test]
fn functions_the_docs_use() {
    let data = json!({"s": "a\"b\n", "n": "2.5", "user": {"Header": {"Authorization": ["Basic dXNlcjpwYXNz"]}}});
    assert_eq!(render("{{jsonEscape .s}}", data.clone()), r#"a\"b\n"#);
    assert_eq!(render(r#"{{b64enc "hi"}}"#, data.clone()), "aGk=");
    assert_eq!(
        render(r#"{{.missing | default "d"}} {{default "d" "v"}}"#, data.clone()),
        "d v"
    );
    assert_eq!(
        render("{{addf .n 1.5}} {{mulf 2 1.25}} {{divf 1 4}}", data.clone()),
        "4 2.5 0.25"
    );
    assert_eq!(render("{{username .user}}", data.clone()), "user");
    assert_eq!(
        render(r#"{{host "127.0.0.1:80"}} {{port "[::1]:8080"}}"#, data.clone()),
        "127.0.0.1 8080"
    );
    assert_eq!(render(r#"{{urlQueryEscape "a b&c"}}"#, data.clone()), "a+b%26c");
    assert_eq!(
        render(r#"{{replace "a" "o" "banana" | upper}}"#, data.clone()),
        "BONONO"
    );
    assert_eq!(render(r#"{{printf "%s-%d-%.1f" "x" 3 2.25}}"#, data.clone()), "x-3-2.2");
    assert_eq!(
        render(r#"{{len .s}} {{index .user.Header.Authorization 0 | len}}"#, data),
        "4 18"
    );
    assert_eq!(
        render(r#"{{(dict "a" 1).a}} {{list 1 2 | toRawJson}}"#, json!({})),
        "1 [1,2]"
    );
}

#[test]
fn custom_delimiters() {
    let t = Template::parse_with("[[.a]] {{.a}}", "[[", "]]").unwrap();
    assert_eq!(t.render(&json!({"a": 1})).unwrap(), "1 {{.a}}");
}

#[test]
fn errors_are_reported() {
    assert!(Template::parse("{{if .a}}x").is_err());
    assert!(Template::parse("{{end}}").is_err());
    assert!(Template::parse("{{break}}").is_err());
    assert!(Template::parse("{{.a").is_err());
    let err = Template::parse("{{nosuch 1}}").unwrap().render(&json!({})).unwrap_err();
    assert!(err.to_string().contains("not defined"), "{err}");
    let err = Template::parse(r#"{{panic "stop"}}"#)
        .unwrap()
        .render(&json!({}))
        .unwrap_err();
    assert!(err.to_string().contains("stop"), "{err}");
}
