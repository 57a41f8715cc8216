//! Turning a pipeline's `flow` into a list of steps with resolved jumps, and rejecting
//! every flow that could misbehave: unknown filters, duplicate aliases, backward or
//! unknown jump targets, and results a filter never returns.

use super::context::NamespaceId;
use crate::config::pipeline::{FlowNodeSpec, DEFAULT_NAMESPACE, END};
use crate::config::FieldError;
use std::collections::HashMap;

/// Where a `jumpIf` sends the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    To(usize),
    End,
}

/// One resolved step of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub alias: String,
    /// Index into the pipeline's filters; `None` for an `END` node.
    pub filter: Option<usize>,
    pub namespace: NamespaceId,
    /// `jumpIf`, as a short list: a linear scan beats hashing for a handful of entries.
    pub jumps: Vec<(String, Jump)>,
}

impl Step {
    pub fn jump_for(&self, result: &str) -> Option<Jump> {
        self.jumps.iter().find(|(r, _)| r == result).map(|(_, j)| *j)
    }
}

/// The resolved flow, and the namespaces it uses (index = [`NamespaceId`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub steps: Vec<Step>,
    pub namespaces: Vec<String>,
}

/// What the flow needs to know about each filter: its name, declared results, and
/// whether it is a guard (which wraps the step after it).
pub struct FilterInfo<'a> {
    pub name: &'a str,
    pub results: &'a [String],
    pub guard: bool,
}

/// Results that Easegress's docs spell differently from its code: users copy the docs,
/// filters return the code's spelling. (doc spelling, returned spelling)
const DOC_SPELLINGS: [(&str, &str); 2] = [
    ("compressFail", "compressFailed"),
    ("decompressFail", "decompressFailed"),
];

/// The result a `jumpIf` key stands for: itself, or the returned spelling of a result
/// the filter declares.
fn as_returned<'a>(written: &'a String, declared: &[String]) -> &'a str {
    DOC_SPELLINGS
        .iter()
        .find(|(doc, returned)| doc == written && declared.iter().any(|d| d == returned))
        .map_or(written.as_str(), |(_, returned)| returned)
}

/// Resolves `nodes` against `filters`. An empty `nodes` means every filter once, in
/// definition order. Errors name the field (`flow[i].jumpIf`, …).
pub fn resolve(nodes: &[FlowNodeSpec], filters: &[FilterInfo<'_>]) -> Result<Flow, FieldError> {
    let by_name: HashMap<&str, usize> = filters.iter().enumerate().map(|(i, f)| (f.name, i)).collect();
    let default_nodes;
    let nodes = if nodes.is_empty() {
        default_nodes = filters
            .iter()
            .map(|f| FlowNodeSpec {
                filter: f.name.to_string(),
                alias: None,
                namespace: None,
                jump_if: Default::default(),
            })
            .collect::<Vec<_>>();
        &default_nodes
    } else {
        nodes
    };

    let mut namespaces = vec![DEFAULT_NAMESPACE.to_string()];
    let mut alias_index: HashMap<String, usize> = HashMap::new();
    // Filter names repeated without an alias: steps, but not jump targets.
    let mut ambiguous: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut steps = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let at = |field: &str| format!("flow[{i}].{field}");
        let filter = if node.filter == END {
            None
        } else {
            Some(
                *by_name
                    .get(node.filter.as_str())
                    .ok_or_else(|| FieldError::new(at("filter"), format!("no filter is named {:?}", node.filter)))?,
            )
        };
        let alias = node.alias.clone().unwrap_or_else(|| node.filter.clone());
        if alias == END && filter.is_some() {
            return Err(FieldError::new(at("alias"), "END is reserved and cannot be an alias"));
        }
        // Several plain END nodes may share the implicit alias "END"; jumps to END never
        // look it up.
        let counts_as_alias = filter.is_some() || node.alias.is_some();
        if counts_as_alias {
            match alias_index.get(&alias) {
                None => {
                    alias_index.insert(alias.clone(), i);
                }
                // Easegress lets a filter repeat without aliases (its API-aggregation
                // examples run one RequestBuilder in three namespaces); only a jump to
                // such a step would be ambiguous, and that is refused below.
                Some(&first) if node.alias.is_none() && nodes[first].alias.is_none() => {
                    ambiguous.insert(alias.clone());
                }
                Some(_) => {
                    return Err(FieldError::new(
                        at("alias"),
                        format!("alias {alias:?} is used twice; give repeated filters distinct aliases"),
                    ))
                }
            }
        }
        let namespace = match node.namespace.as_deref() {
            None | Some("") => NamespaceId::DEFAULT,
            Some(name) => match namespaces.iter().position(|n| n == name) {
                Some(p) => NamespaceId(p),
                None => {
                    namespaces.push(name.to_string());
                    NamespaceId(namespaces.len() - 1)
                }
            },
        };
        if filter.is_none() && !node.jump_if.is_empty() {
            return Err(FieldError::new(at("jumpIf"), "an END node cannot jump"));
        }
        steps.push(Step {
            alias,
            filter,
            namespace,
            jumps: Vec::new(),
        });
    }

    // A guard wraps the step right after it, so one must follow.
    for (i, step) in steps.iter().enumerate() {
        let Some(f) = step.filter.filter(|&f| filters[f].guard) else {
            continue;
        };
        if steps.get(i + 1).and_then(|next| next.filter).is_none() {
            return Err(FieldError::new(
                format!("flow[{i}].filter"),
                format!(
                    "{:?} is a guard: it wraps the step after it, so a filter step must follow it",
                    filters[f].name
                ),
            ));
        }
    }

    // Jumps are resolved once every alias is known; targets must lie ahead.
    for (i, node) in nodes.iter().enumerate() {
        for (written, target) in &node.jump_if {
            let field = format!("flow[{i}].jumpIf.{written:?}");
            let mut result = written.as_str();
            if let Some(f) = steps[i].filter {
                let declared = filters[f].results;
                result = as_returned(written, declared);
                if !result.is_empty() && !declared.iter().any(|r| r == result) {
                    let known = if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(", ")
                    };
                    return Err(FieldError::new(
                        field,
                        format!(
                            "filter {:?} never returns result {result:?} (its results: {known})",
                            filters[f].name
                        ),
                    ));
                }
            }
            let jump = if target == END {
                Jump::End
            } else if ambiguous.contains(target.as_str()) {
                return Err(FieldError::new(
                    field,
                    format!("{target:?} names several steps; give them distinct aliases to jump to one"),
                ));
            } else {
                match alias_index.get(target.as_str()) {
                    Some(&t) if t > i => Jump::To(t),
                    Some(_) => {
                        return Err(FieldError::new(
                            field,
                            format!("jump to {target:?} goes backwards; jumps may only go forward"),
                        ))
                    }
                    None => return Err(FieldError::new(field, format!("no step has the alias {target:?}"))),
                }
            };
            steps[i].jumps.push((result.to_string(), jump));
        }
    }
    Ok(Flow { steps, namespaces })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(filter: &str, alias: Option<&str>, jumps: &[(&str, &str)]) -> FlowNodeSpec {
        FlowNodeSpec {
            filter: filter.into(),
            alias: alias.map(Into::into),
            namespace: None,
            jump_if: jumps.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }

    fn infos<'a>(names: &'a [&'a str], results: &'a [String]) -> Vec<FilterInfo<'a>> {
        names
            .iter()
            .map(|n| FilterInfo {
                name: n,
                results,
                guard: *n == "guard",
            })
            .collect()
    }

    #[test]
    fn empty_flow_runs_filters_in_order() {
        let flow = resolve(&[], &infos(&["a", "b"], &[])).unwrap();
        assert_eq!(
            flow.steps.iter().map(|s| s.filter).collect::<Vec<_>>(),
            vec![Some(0), Some(1)]
        );
    }

    #[test]
    fn forward_jumps_and_end_resolve() {
        let results = vec!["invalid".to_string()];
        let flow = resolve(
            &[
                node("a", None, &[("invalid", "fail")]),
                node("b", None, &[("", "END")]),
                node("a", Some("fail"), &[]),
            ],
            &infos(&["a", "b"], &results),
        )
        .unwrap();
        assert_eq!(flow.steps[0].jump_for("invalid"), Some(Jump::To(2)));
        assert_eq!(flow.steps[1].jump_for(""), Some(Jump::End));
    }

    #[test]
    fn rejects_backward_unknown_duplicate_and_undeclared() {
        let results = vec!["invalid".to_string()];
        let f = infos(&["a", "b"], &results);
        let backward = resolve(&[node("a", None, &[]), node("b", None, &[("invalid", "a")])], &f).unwrap_err();
        assert!(backward.message.contains("backwards"), "{backward}");
        let unknown = resolve(&[node("a", None, &[("invalid", "nowhere")])], &f).unwrap_err();
        assert!(unknown.message.contains("nowhere"), "{unknown}");
        let duplicate = resolve(&[node("a", None, &[]), node("b", Some("a"), &[])], &f).unwrap_err();
        assert!(duplicate.message.contains("twice"), "{duplicate}");
        let repeated = [
            node("b", None, &[("invalid", "a")]),
            node("a", None, &[]),
            node("a", None, &[]),
        ];
        let ambiguous = resolve(&repeated, &f).unwrap_err();
        assert!(ambiguous.message.contains("several steps"), "{ambiguous}");
        assert_eq!(
            resolve(&repeated[1..], &f).unwrap().steps.len(),
            2,
            "a filter may repeat without aliases"
        );
        let undeclared = resolve(&[node("a", None, &[("bogus", "END")])], &f).unwrap_err();
        assert_eq!(undeclared.field.as_deref(), Some("flow[0].jumpIf.\"bogus\""));
        let missing = resolve(&[node("zzz", None, &[])], &f).unwrap_err();
        assert!(missing.message.contains("zzz"));
    }

    #[test]
    fn the_docs_spelling_of_a_result_jumps_on_the_returned_one() {
        let results = vec!["decompressFailed".to_string()];
        let flow = resolve(
            &[node("a", None, &[("decompressFail", "END")])],
            &infos(&["a"], &results),
        )
        .unwrap();
        assert_eq!(flow.steps[0].jump_for("decompressFailed"), Some(Jump::End));
    }

    #[test]
    fn a_guard_needs_a_filter_step_after_it() {
        let f = infos(&["guard", "a"], &[]);
        assert!(resolve(&[node("guard", None, &[]), node("a", None, &[])], &f).is_ok());
        for flow in [
            vec![node("a", None, &[]), node("guard", None, &[])],
            vec![node("guard", None, &[]), node(END, None, &[])],
        ] {
            let err = resolve(&flow, &f).unwrap_err();
            assert!(err.message.contains("guard"), "{err}");
        }
    }
}
