//! How template values behave: field access, truth, printing and comparison.

use serde_json::Value;

static NULL: Value = Value::Null;

/// `.name` of a value: a map key, or a list index; missing is `null`.
pub fn field<'a>(value: &'a Value, name: &str) -> &'a Value {
    match value {
        Value::Object(map) => map.get(name).unwrap_or(&NULL),
        Value::Array(items) => name.parse::<usize>().ok().and_then(|i| items.get(i)).unwrap_or(&NULL),
        _ => &NULL,
    }
}

/// Go's truth: false, 0, nil and empty strings, lists and maps are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The text `{{value}}` writes. A missing value prints `<no value>`, as Go does for a
/// missing map key.
pub fn print(value: &Value) -> String {
    match value {
        Value::Null => "<no value>".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => number(n),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Numbers print like Go's `%v`: a float with no fraction has no `.0`.
pub fn number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// Go's `eq`: numbers compare by value whatever their representation.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Ordering for `lt` and friends: numbers with numbers, strings with strings.
pub fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).ok_or_else(|| "NaN cannot be ordered".to_string())
        }
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(format!("incompatible types for comparison: {a} and {b}")),
    }
}

/// A number from a value, accepting numeric strings as sprig does.
pub fn float(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        Value::Bool(true) => 1.0,
        _ => 0.0,
    }
}

/// An integer from a value (sprig's `toInt` rules: truncating floats).
pub fn int(value: &Value) -> i64 {
    match value {
        Value::Number(n) => n.as_i64().unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
        other => float(other) as i64,
    }
}

/// A float as a JSON number (non-finite results become `null`).
pub fn from_float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// The text of a value for string functions: strings as they are, others printed.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        other => print(other),
    }
}
