//! A strict reader of the Prometheus text format (0.0.4), for tests: the syntax of
//! every line, plus the rules a scraper relies on: `TYPE` before a family's samples,
//! each family in one block, no duplicate series, and histograms whose buckets rise to
//! a `+Inf` equal to `_count`.

use std::collections::{BTreeMap, HashMap, HashSet};

fn valid_name(name: &str, colons: bool) -> bool {
    let mut chars = name.chars();
    let first_ok = |c: char| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':');
    chars.next().is_some_and(first_ok) && chars.all(|c| first_ok(c) || c.is_ascii_digit())
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ if text.contains("inf") || text.contains("nan") => Err(format!("bad value {text:?}")),
        _ => text.parse().map_err(|_| format!("bad value {text:?}")),
    }
}

/// A histogram series: its family and labels other than `le`.
type SeriesKey = (String, BTreeMap<String, String>);

struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses `name{a="x",b="y"} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !valid_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            let start = match chars.peek() {
                Some((_, '}')) => {
                    let (i, _) = chars.next().unwrap();
                    rest = &after[i + 1..];
                    break;
                }
                Some((i, _)) => *i,
                None => return Err("unclosed labels".into()),
            };
            let eq = after[start..].find('=').ok_or("label without =")? + start;
            let label = &after[start..eq];
            if !valid_name(label, false) {
                return Err(format!("bad label name {label:?}"));
            }
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {label} value is not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("bad escape \\{other:?} in label {label}")),
                    },
                    Some('\n') | None => return Err(format!("unterminated value of label {label}")),
                    Some(c) => value.push(c),
                }
            }
            if labels.insert(label.to_string(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            if chars.peek().map(|(_, c)| *c) == Some(',') {
                chars.next();
            }
        }
    }
    let mut fields = rest.strip_prefix(' ').ok_or("no space before the value")?.split(' ');
    let value = parse_value(fields.next().ok_or("no value")?)?;
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("bad timestamp {timestamp:?}"))?;
    }
    if fields.next().is_some() {
        return Err("trailing text".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// The family a sample belongs to, given the declared types.
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.get(base).is_some_and(|t| t == "histogram" || t == "summary") {
                return base;
            }
        }
    }
    name
}

/// Checks `text`; the error names the line.
pub fn check(text: &str) -> Result<(), String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the text does not end with a newline".into());
    }
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helps = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut series = HashSet::new();
    // Per histogram series (labels without `le`): (le, cumulative count) in order, and
    // its `_count` and whether `_sum` was seen.
    let mut buckets: BTreeMap<SeriesKey, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts: BTreeMap<SeriesKey, f64> = BTreeMap::new();
    let mut sums = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match words.as_slice() {
                ["HELP", name, ..] if !valid_name(name, true) || !helps.insert(name.to_string()) => {
                    return Err(at("bad or repeated HELP".into()));
                }
                ["TYPE", name, kind] => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() || finished.contains(*name) {
                        return Err(at("TYPE repeated, or after the family's samples".into()));
                    }
                    if current.as_deref() == Some(*name) {
                        return Err(at("TYPE after the family's samples".into()));
                    }
                }
                ["TYPE", ..] => return Err(at("TYPE needs a name and a type".into())),
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let family = family_of(&sample.name, &types).to_string();
        if current.as_ref() != Some(&family) {
            if finished.contains(&family) {
                return Err(at(format!("family {family} appears in two blocks")));
            }
            if let Some(previous) = current.replace(family.clone()) {
                finished.insert(previous);
            }
        }
        if !series.insert((sample.name.clone(), sample.labels.clone())) {
            return Err(at("duplicate series".into()));
        }
        let kind = types.get(&family).map(String::as_str).unwrap_or("untyped");
        if kind == "counter" && (sample.value.is_nan() || sample.value < 0.0) {
            return Err(at("a counter must not be negative or NaN".into()));
        }
        if kind != "histogram" {
            continue;
        }
        let mut labels = sample.labels.clone();
        let le = labels.remove("le");
        let key = (family.clone(), labels);
        match (sample.name.strip_prefix(family.as_str()), le) {
            (Some("_bucket"), Some(le)) => {
                let le = parse_value(&le).map_err(at)?;
                buckets.entry(key).or_default().push((le, sample.value));
            }
            (Some("_count"), None) => {
                counts.insert(key, sample.value);
            }
            (Some("_sum"), None) => {
                sums.insert(key);
            }
            _ => return Err(at("a histogram sample that is not _bucket{le}, _sum or _count".into())),
        }
    }
    for (key, list) in &buckets {
        let name = &key.0;
        if !list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1) {
            return Err(format!("{name}: buckets are not in rising order with rising counts"));
        }
        let last = list.last().expect("entries have a bucket");
        if last.0 != f64::INFINITY {
            return Err(format!("{name}: no +Inf bucket"));
        }
        if counts.get(key) != Some(&last.1) {
            return Err(format!("{name}: _count differs from the +Inf bucket"));
        }
        if !sums.contains(key) {
            return Err(format!("{name}: no _sum"));
        }
    }
    if counts.keys().any(|key| !buckets.contains_key(key)) {
        return Err("a histogram _count without buckets".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_well_formed_text() {
        let text = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\\\\\n\"} 3\n\
                    # TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.7\nh_count 2\n\
                    g 1.5e-3 1700000000000\n";
        check(text).unwrap();
    }

    #[test]
    fn rejects_what_a_scraper_would() {
        for (bad, why) in [
            ("a 1", "no final newline"),
            ("a{x=1} 1\n", "unquoted label"),
            ("a{x=\"1} 1\n", "unterminated label"),
            ("a{x=\"\\t\"} 1\n", "bad escape"),
            ("1a 1\n", "bad name"),
            ("a one\n", "bad value"),
            ("a 1\na 2\n", "duplicate series"),
            ("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n", "split family"),
            ("a 1\n# TYPE a counter\n", "TYPE after samples"),
            ("# TYPE c counter\nc -1\n", "negative counter"),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                "falling buckets",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
                "no +Inf",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
                "count differs",
            ),
            ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no sum"),
        ] {
            assert!(check(bad).is_err(), "accepted: {why}");
        }
    }
}
