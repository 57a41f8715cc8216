//! The functions templates can call: Go's built-ins, the slim-sprig ones Easegress's docs
//! use, and Easegress's own (`addf`, `mergeObject`, `jsonEscape`, `header`, ...).

use crate::value::{compare, equal, float, from_float, int, number, print, text, truthy};
use base64::Engine;
use serde_json::{Map, Value};
use std::cmp::Ordering;

type Result = std::result::Result<Value, String>;

fn arity(args: &[Value], n: usize) -> std::result::Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!("wants {n} arguments, got {}", args.len()))
    }
}

fn at_least(args: &[Value], n: usize) -> std::result::Result<(), String> {
    if args.len() >= n {
        Ok(())
    } else {
        Err(format!("wants at least {n} arguments, got {}", args.len()))
    }
}

pub fn call(name: &str, args: Vec<Value>) -> Result {
    match name {
        // Go's built-ins.
        "eq" => {
            at_least(&args, 2)?;
            Ok(Value::Bool(args[1..].iter().any(|b| equal(&args[0], b))))
        }
        "ne" => {
            arity(&args, 2)?;
            Ok(Value::Bool(!equal(&args[0], &args[1])))
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(&args, 2)?;
            let order = compare(&args[0], &args[1])?;
            Ok(Value::Bool(match name {
                "lt" => order == Ordering::Less,
                "le" => order != Ordering::Greater,
                "gt" => order == Ordering::Greater,
                _ => order != Ordering::Less,
            }))
        }
        "not" => {
            arity(&args, 1)?;
            Ok(Value::Bool(!truthy(&args[0])))
        }
        "len" => {
            arity(&args, 1)?;
            match &args[0] {
                Value::String(s) => Ok(s.len().into()),
                Value::Array(a) => Ok(a.len().into()),
                Value::Object(o) => Ok(o.len().into()),
                Value::Null => Ok(0.into()),
                other => Err(format!("len of {other}")),
            }
        }
        "index" => {
            at_least(&args, 1)?;
            let mut current = args[0].clone();
            for key in &args[1..] {
                current = match (&current, key) {
                    (Value::Array(a), k) => a.get(int(k) as usize).cloned().unwrap_or(Value::Null),
                    (Value::Object(o), k) => o.get(&text(k)).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
            }
            Ok(current)
        }
        "print" => Ok(Value::String(go_print(&args))),
        "println" => Ok(Value::String(
            args.iter().map(print).collect::<Vec<_>>().join(" ") + "\n",
        )),
        "printf" => {
            at_least(&args, 1)?;
            Ok(Value::String(printf(&text(&args[0]), &args[1..])))
        }
        "urlquery" | "urlQueryEscape" => Ok(Value::String(query_escape(&go_print(&args)))),
        "urlQueryUnescape" => {
            arity(&args, 1)?;
            query_unescape(&text(&args[0])).map(Value::String)
        }
        // sprig.
        "toRawJson" | "toJson" | "mustToRawJson" | "mustToJson" => {
            arity(&args, 1)?;
            // sprig's toJson escapes HTML characters; toRawJson does not. Neither matters
            // for the YAML these templates produce, so both write plain JSON.
            serde_json::to_string(&args[0])
                .map(Value::String)
                .map_err(|e| e.to_string())
        }
        "toPrettyJson" => {
            arity(&args, 1)?;
            serde_json::to_string_pretty(&args[0])
                .map(Value::String)
                .map_err(|e| e.to_string())
        }
        "fromJson" => {
            arity(&args, 1)?;
            Ok(serde_json::from_str(&text(&args[0])).unwrap_or(Value::Null))
        }
        "b64enc" => {
            arity(&args, 1)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text(&args[0])),
            ))
        }
        "b64dec" => {
            arity(&args, 1)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text(&args[0]))
                .map_err(|e| e.to_string())?;
            Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        "default" => {
            at_least(&args, 1)?;
            // `x | default "d"` and `default "d" x`: the given value unless it is empty.
            match args.get(1) {
                Some(v) if truthy(v) => Ok(v.clone()),
                _ => Ok(args[0].clone()),
            }
        }
        "empty" => {
            arity(&args, 1)?;
            Ok(Value::Bool(!truthy(&args[0])))
        }
        "coalesce" => Ok(args.into_iter().find(truthy).unwrap_or(Value::Null)),
        "ternary" => {
            arity(&args, 3)?;
            Ok(if truthy(&args[2]) {
                args[0].clone()
            } else {
                args[1].clone()
            })
        }
        "get" => {
            arity(&args, 2)?;
            Ok(args[0]
                .get(text(&args[1]))
                .cloned()
                .unwrap_or(Value::String(String::new())))
        }
        "hasKey" => {
            arity(&args, 2)?;
            Ok(Value::Bool(args[0].get(text(&args[1])).is_some()))
        }
        "keys" => {
            let mut keys: Vec<Value> = Vec::new();
            for arg in &args {
                if let Value::Object(o) = arg {
                    keys.extend(o.keys().map(|k| Value::String(k.clone())));
                }
            }
            Ok(Value::Array(keys))
        }
        "list" => Ok(Value::Array(args)),
        "dict" => {
            let mut map = Map::new();
            for pair in args.chunks(2) {
                map.insert(
                    text(&pair[0]),
                    pair.get(1).cloned().unwrap_or(Value::String(String::new())),
                );
            }
            Ok(Value::Object(map))
        }
        "first" | "last" => {
            arity(&args, 1)?;
            match &args[0] {
                Value::Array(a) => Ok((if name == "first" { a.first() } else { a.last() })
                    .cloned()
                    .unwrap_or(Value::Null)),
                other => Err(format!("{name} of {other}")),
            }
        }
        "replace" => {
            arity(&args, 3)?;
            Ok(Value::String(text(&args[2]).replace(&text(&args[0]), &text(&args[1]))))
        }
        "trim" => string1(&args, |s| s.trim().to_string()),
        "upper" => string1(&args, |s| s.to_uppercase()),
        "lower" => string1(&args, |s| s.to_lowercase()),
        "quote" => Ok(Value::String(
            args.iter()
                .map(|a| Value::String(text(a)).to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "squote" => Ok(Value::String(
            args.iter()
                .map(|a| format!("'{}'", text(a)))
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "toString" => string1(&args, |s| s.to_string()),
        "trimPrefix" | "trimSuffix" | "contains" | "hasPrefix" | "hasSuffix" => {
            arity(&args, 2)?;
            let (pattern, s) = (text(&args[0]), text(&args[1]));
            Ok(match name {
                "trimPrefix" => Value::String(s.strip_prefix(&pattern).unwrap_or(&s).to_string()),
                "trimSuffix" => Value::String(s.strip_suffix(&pattern).unwrap_or(&s).to_string()),
                "contains" => Value::Bool(s.contains(&pattern)),
                "hasPrefix" => Value::Bool(s.starts_with(&pattern)),
                _ => Value::Bool(s.ends_with(&pattern)),
            })
        }
        "splitList" => {
            arity(&args, 2)?;
            Ok(Value::Array(
                text(&args[1])
                    .split(&text(&args[0]))
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            ))
        }
        "join" => {
            arity(&args, 2)?;
            let items = match &args[1] {
                Value::Array(a) => a.iter().map(text).collect::<Vec<_>>(),
                other => vec![text(other)],
            };
            Ok(Value::String(items.join(&text(&args[0]))))
        }
        "atoi" | "int" | "int64" | "toInt" => {
            arity(&args, 1)?;
            Ok(int(&args[0]).into())
        }
        "float64" | "toFloat64" => {
            arity(&args, 1)?;
            Ok(from_float(float(&args[0])))
        }
        "add" => Ok(args.iter().map(int).sum::<i64>().into()),
        "add1" => {
            arity(&args, 1)?;
            Ok((int(&args[0]) + 1).into())
        }
        "sub" | "mul" | "div" | "mod" => {
            arity(&args, 2)?;
            let (a, b) = (int(&args[0]), int(&args[1]));
            match name {
                "sub" => Ok((a - b).into()),
                "mul" => Ok((a * b).into()),
                _ if b == 0 => Err("division by zero".into()),
                "div" => Ok((a / b).into()),
                _ => Ok((a % b).into()),
            }
        }
        "max" | "min" => {
            at_least(&args, 1)?;
            let values = args.iter().map(int);
            Ok(if name == "max" { values.max() } else { values.min() }
                .unwrap_or(0)
                .into())
        }
        // Easegress's own.
        "addf" | "subf" | "mulf" | "divf" => {
            at_least(&args, 1)?;
            let mut acc = float(&args[0]);
            for arg in &args[1..] {
                let x = float(arg);
                acc = match name {
                    "addf" => acc + x,
                    "subf" => acc - x,
                    "mulf" => acc * x,
                    _ if x == 0.0 => return Err("division by zero".into()),
                    _ => acc / x,
                };
            }
            Ok(from_float(acc))
        }
        "mergeObject" => {
            let mut merged = Value::Object(Map::new());
            for arg in args {
                merge(&mut merged, arg);
            }
            Ok(merged)
        }
        "jsonEscape" => {
            arity(&args, 1)?;
            let quoted = Value::String(text(&args[0])).to_string();
            Ok(Value::String(quoted[1..quoted.len() - 1].to_string()))
        }
        "host" | "port" => {
            arity(&args, 1)?;
            let hostport = text(&args[0]);
            let (host, port) = split_host_port(&hostport).ok_or_else(|| format!("{hostport:?} has no port"))?;
            Ok(Value::String(if name == "host" { host } else { port }))
        }
        "header" => {
            arity(&args, 2)?;
            Ok(Value::String(header(&args[0], &text(&args[1])).unwrap_or_default()))
        }
        "username" => {
            arity(&args, 1)?;
            Ok(Value::String(username(&args[0]).unwrap_or_default()))
        }
        // Logging from a guest has no log level worth honouring here; the host's log is
        // reached by the filter, so `log` only yields nothing, as in Easegress.
        "log" => Ok(Value::String(String::new())),
        "panic" => Err(text(args.first().unwrap_or(&Value::Null))),
        _ => Err(format!("function {name:?} not defined")),
    }
}

fn string1(args: &[Value], f: impl Fn(&str) -> String) -> Result {
    arity(args, 1)?;
    Ok(Value::String(f(&text(&args[0]))))
}

/// Go's `print`: a space between operands when neither is a string.
fn go_print(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !args[i - 1].is_string() && !arg.is_string() {
            out.push(' ');
        }
        out.push_str(&print(arg));
    }
    out
}

/// The verbs templates use: `%s %v %d %f %.Nf %q %x %t %%`.
fn printf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            precision = digits.parse::<usize>().ok();
        }
        let Some(verb) = chars.next() else {
            out.push('%');
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        match verb {
            'd' => out.push_str(&int(arg).to_string()),
            'f' => out.push_str(&format!("{:.*}", precision.unwrap_or(6), float(arg))),
            'q' => out.push_str(&Value::String(text(arg)).to_string()),
            'x' => match arg {
                Value::Number(_) => out.push_str(&format!("{:x}", int(arg))),
                _ => text(arg).bytes().for_each(|b| out.push_str(&format!("{b:02x}"))),
            },
            'v' | 's' | 't' => match arg {
                Value::Number(n) => out.push_str(&number(n)),
                other => out.push_str(&print(other)),
            },
            other => out.push_str(&format!("%!{other}({})", print(arg))),
        }
    }
    out
}

/// Deep merge into an object, later values winning: objects merge key by key, anything
/// else replaces. Arguments that are not objects are skipped, so a failed backend's
/// missing `JSONBody` does not spoil an aggregation.
fn merge(into: &mut Value, from: Value) {
    let (Value::Object(a), Value::Object(b)) = (into, from) else {
        return;
    };
    for (k, v) in b {
        match a.get_mut(&k) {
            Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
            _ => {
                a.insert(k, v);
            }
        }
    }
}

fn split_host_port(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host.to_string(), port.to_string()));
    }
    let (host, port) = s.rsplit_once(':')?;
    Some((host.to_string(), port.to_string()))
}

/// The first value of a header in a `Header` map (`{Name: [values]}`), any case.
fn header(headers: &Value, key: &str) -> Option<String> {
    let map = headers.as_object()?;
    let (_, values) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?;
    match values {
        Value::Array(a) => a.first().map(text),
        other => Some(text(other)),
    }
}

/// The user of a request's `Authorization: Basic` header.
fn username(request: &Value) -> Option<String> {
    let auth = header(request.get("Header")?, "Authorization")?;
    let encoded = auth.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    Some(
        decoded
            .split_once(':')
            .map_or(decoded.clone(), |(user, _)| user.to_string()),
    )
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`.
fn query_unescape(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or_else(|| format!("invalid escape in {s:?}"))?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("invalid escape in {s:?}"))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8 once unescaped"))
}
