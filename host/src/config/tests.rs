use super::*;

#[test]
fn reads_several_documents_with_their_lines() {
    let text = "kind: HTTPServer\nname: a\nport: 80\n---\n# comment\nkind: Pipeline\nname: p\nfilters:\n  - name: proxy\n    kind: Proxy\n---\n";
    let objects = parse_str(text, "f.yaml").unwrap();
    assert_eq!(objects.len(), 2);
    assert_eq!(
        (objects[0].spec.label(), objects[0].line),
        ("HTTPServer \"a\"".to_string(), 1)
    );
    assert_eq!(objects[1].line, 5);
    let ObjectSpec::Pipeline(p) = &objects[1].spec else {
        panic!("not a pipeline")
    };
    assert_eq!(
        (
            p.filters[0].name.as_str(),
            p.filters[0].kind.as_str(),
            p.filters[0].line
        ),
        ("proxy", "Proxy", Some(9))
    );
}

#[test]
fn typed_errors_carry_line_object_and_field() {
    let text = "kind: Pipeline\nname: p\n---\nkind: HTTPServer\nname: s\nport: 80\nrules:\n  - paths:\n      - pathPrefix: /a\n        backend: p\n        methodz: [GET]\n";
    let e = parse_str(text, "f.yaml").unwrap_err();
    assert_eq!(e.line, Some(11), "{e}");
    assert_eq!(e.object.as_deref(), Some("HTTPServer \"s\""));
    assert_eq!(e.field.as_deref(), Some("rules[0].paths[0].methodz"));
    assert!(e.message.contains("methodz"), "{e}");
    assert!(
        e.to_string()
            .starts_with("f.yaml:11: HTTPServer \"s\": field rules[0].paths[0].methodz: "),
        "{e}"
    );
}

#[test]
fn wrong_types_and_missing_fields() {
    let e = parse_str("kind: HTTPServer\nname: s\nport: eighty\n", "f").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("port")));
    let e = parse_str("kind: HTTPServer\nname: s\n", "f").unwrap_err();
    assert!(e.message.contains("port"), "{e}");
    let e = parse_str("name: s\n", "f").unwrap_err();
    assert!(e.message.contains("kind"), "{e}");
    let e = parse_str("kind: Pipeline\nname: p\nfilters:\n  - name: x\n", "f").unwrap_err();
    assert!(e.message.contains("kind"), "{e}");
}

#[test]
fn filter_errors_point_at_the_filter() {
    let text = "kind: Pipeline\nname: p\nfilters:\n  - name: a\n    kind: Proxy\n  - kind: Proxy\n    name: \"b\"\n";
    let objects = parse_str(text, "f").unwrap();
    let e = objects[0].error(FieldError::new("filters[1].pools", "bad"));
    assert_eq!(e.line, Some(7));
    let e = objects[0].error(FieldError::new("flow[0].filter", "bad"));
    assert_eq!(e.line, Some(1), "errors outside filters point at the object");
}
