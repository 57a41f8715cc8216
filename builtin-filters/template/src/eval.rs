//! Evaluates a parsed template over a JSON value.

use crate::parse::{Arg, Command, Node, Pipe};
use crate::value::{field, print, truthy};
use serde_json::Value;

/// A template that does not parse, or fails while rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// How a list of nodes finished: normally, or by `{{break}}` / `{{continue}}`.
#[derive(PartialEq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'a> {
    out: String,
    /// Variables in scope, innermost last; `$` is the first.
    vars: Vec<(String, Value)>,
    root: &'a Value,
}

pub fn render(nodes: &[Node], data: &Value) -> Result<String, Error> {
    let mut state = State {
        out: String::new(),
        vars: vec![(String::new(), data.clone())],
        root: data,
    };
    state.list(nodes, data)?;
    Ok(state.out)
}

impl State<'_> {
    fn list(&mut self, nodes: &[Node], dot: &Value) -> Result<Flow, Error> {
        // A variable lives until the end of the control structure it was declared in.
        let mark = self.vars.len();
        let flow = self.nodes(nodes, dot);
        self.vars.truncate(mark);
        flow
    }

    fn nodes(&mut self, nodes: &[Node], dot: &Value) -> Result<Flow, Error> {
        for node in nodes {
            match node {
                Node::Text(text) => self.out.push_str(text),
                Node::Action(pipe) => {
                    let value = self.pipe(pipe, dot)?;
                    if pipe.vars.is_empty() {
                        self.out.push_str(&print(&value));
                    }
                }
                Node::If { cond, then, otherwise } => {
                    let mark = self.vars.len();
                    let value = self.pipe(cond, dot)?;
                    let branch = if truthy(&value) { then } else { otherwise };
                    let flow = self.list(branch, dot)?;
                    self.vars.truncate(mark);
                    if flow != Flow::Normal {
                        return Ok(flow);
                    }
                }
                Node::Range { pipe, body, otherwise } => {
                    let mark = self.vars.len();
                    let flow = self.range(pipe, body, otherwise, dot);
                    self.vars.truncate(mark);
                    flow?;
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn range(&mut self, pipe: &Pipe, body: &[Node], otherwise: &[Node], dot: &Value) -> Result<(), Error> {
        // The range's variables are bound per element, not to the whole pipeline.
        let bare = Pipe {
            vars: Vec::new(),
            declare: false,
            commands: pipe.commands.clone(),
        };
        let over = self.pipe(&bare, dot)?;
        let entries: Vec<(Value, Value)> = match over {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v))
                .collect(),
            // serde_json keeps keys sorted, as Go ranges over a map.
            Value::Object(map) => map.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            Value::Number(n) if n.as_u64().is_some() => (0..n.as_u64().unwrap_or(0))
                .map(|i| (Value::from(i), Value::from(i)))
                .collect(),
            Value::Null => Vec::new(),
            other => return Err(Error::new(format!("range can't iterate over {}", print(&other)))),
        };
        if entries.is_empty() {
            self.list(otherwise, dot)?;
            return Ok(());
        }
        let mark = self.vars.len();
        for (key, element) in entries {
            self.vars.truncate(mark);
            match pipe.vars.as_slice() {
                [] => {}
                [value] => self.vars.push((value.clone(), element.clone())),
                [k, v, ..] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((v.clone(), element.clone()));
                }
            }
            if self.list(body, &element)? == Flow::Break {
                break;
            }
        }
        Ok(())
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &Value) -> Result<Value, Error> {
        let mut value: Option<Value> = None;
        for command in &pipe.commands {
            value = Some(self.command(command, dot, value)?);
        }
        let value = value.unwrap_or(Value::Null);
        for name in &pipe.vars {
            if pipe.declare {
                self.vars.push((name.clone(), value.clone()));
            } else {
                let slot = self
                    .vars
                    .iter_mut()
                    .rev()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| Error::new(format!("undefined variable ${name}")))?;
                slot.1 = value.clone();
            }
        }
        Ok(value)
    }

    /// One command; `piped` is the previous command's value, passed as the last argument.
    fn command(&mut self, command: &Command, dot: &Value, piped: Option<Value>) -> Result<Value, Error> {
        if let Arg::Func(name) = &command.args[0] {
            let mut args = Vec::with_capacity(command.args.len());
            // `and` and `or` stop at the first deciding argument, as in Go.
            if name == "and" || name == "or" {
                let mut last = Value::Null;
                for arg in command.args[1..].iter() {
                    last = self.arg(arg, dot)?;
                    if truthy(&last) == (name == "or") {
                        return Ok(last);
                    }
                }
                if let Some(p) = piped {
                    last = p;
                }
                return Ok(last);
            }
            for arg in &command.args[1..] {
                args.push(self.arg(arg, dot)?);
            }
            args.extend(piped);
            return crate::funcs::call(name, args).map_err(|e| Error::new(format!("{name}: {e}")));
        }
        if command.args.len() > 1 || piped.is_some() {
            return Err(Error::new("can't give arguments to a non-function"));
        }
        self.arg(&command.args[0], dot)
    }

    fn arg(&mut self, arg: &Arg, dot: &Value) -> Result<Value, Error> {
        Ok(match arg {
            Arg::Literal(v) => v.clone(),
            Arg::Field(names) => chain(dot, names),
            Arg::Var(name, names) => {
                let value = if name.is_empty() {
                    self.root
                } else {
                    &self
                        .vars
                        .iter()
                        .rev()
                        .find(|(n, _)| n == name)
                        .ok_or_else(|| Error::new(format!("undefined variable ${name}")))?
                        .1
                };
                chain(value, names)
            }
            Arg::Func(name) => crate::funcs::call(name, Vec::new()).map_err(|e| Error::new(format!("{name}: {e}")))?,
            Arg::Sub(pipe, names) => {
                let value = self.pipe(pipe, dot)?;
                chain(&value, names)
            }
        })
    }
}

fn chain(value: &Value, names: &[String]) -> Value {
    let mut current = value;
    for name in names {
        current = field(current, name);
    }
    current.clone()
}
