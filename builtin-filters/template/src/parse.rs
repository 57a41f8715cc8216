//! Builds the tree of a template from its items: text, output actions, `if`/`else if`/
//! `else`, `range` (with `else`), `break`, `continue`, and variable declarations.

use crate::eval::Error;
use crate::lex::{Item, Token};
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    /// `{{pipeline}}`: printed unless it declares or assigns a variable.
    Action(Pipe),
    If {
        cond: Pipe,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Break,
    Continue,
}

/// A pipeline, possibly declaring (`:=`) or assigning (`=`) variables.
#[derive(Debug, Clone)]
pub struct Pipe {
    pub vars: Vec<String>,
    pub declare: bool,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub enum Arg {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Func(String),
    Literal(Value),
    Sub(Box<Pipe>, Vec<String>),
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End,
    Else(Vec<Token>),
}

pub fn parse(items: Vec<Item>) -> Result<Vec<Node>, Error> {
    let mut items = items.into_iter();
    let (nodes, end) = list(&mut items, 0)?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End => Err(Error::new("unexpected {{end}}")),
        Stop::Else(_) => Err(Error::new("unexpected {{else}}")),
    }
}

fn list(items: &mut std::vec::IntoIter<Item>, loops: usize) -> Result<(Vec<Node>, Stop), Error> {
    let mut nodes = Vec::new();
    while let Some(item) = items.next() {
        let tokens = match item {
            Item::Text(text) => {
                nodes.push(Node::Text(text));
                continue;
            }
            Item::Action(tokens) => tokens,
        };
        let keyword = match tokens.first() {
            Some(Token::Ident(k)) => k.as_str(),
            _ => "",
        };
        match keyword {
            "end" => return Ok((nodes, Stop::End)),
            "else" => return Ok((nodes, Stop::Else(tokens[1..].to_vec()))),
            "if" => nodes.push(if_node(&tokens[1..], items, loops)?),
            "range" => {
                let pipe = pipe(&tokens[1..])?;
                let (body, end) = list(items, loops + 1)?;
                let otherwise = match end {
                    Stop::End => Vec::new(),
                    Stop::Else(rest) if rest.is_empty() => closed(items, loops)?,
                    Stop::Else(_) => return Err(Error::new("{{else if}} inside {{range}}")),
                    Stop::Eof => return Err(Error::new("{{range}} without {{end}}")),
                };
                nodes.push(Node::Range { pipe, body, otherwise });
            }
            "break" | "continue" if tokens.len() == 1 => {
                if loops == 0 {
                    return Err(Error::new(format!("{{{{{keyword}}}}} outside {{{{range}}}}")));
                }
                nodes.push(if keyword == "break" {
                    Node::Break
                } else {
                    Node::Continue
                });
            }
            "with" | "define" | "template" | "block" => {
                return Err(Error::new(format!("{{{{{keyword}}}}} is not supported")))
            }
            _ => nodes.push(Node::Action(pipe(&tokens)?)),
        }
    }
    Ok((nodes, Stop::Eof))
}

/// A list that must end with `{{end}}`.
fn closed(items: &mut std::vec::IntoIter<Item>, loops: usize) -> Result<Vec<Node>, Error> {
    match list(items, loops)? {
        (nodes, Stop::End) => Ok(nodes),
        _ => Err(Error::new("missing {{end}}")),
    }
}

fn if_node(cond: &[Token], items: &mut std::vec::IntoIter<Item>, loops: usize) -> Result<Node, Error> {
    let cond = pipe(cond)?;
    let (then, end) = list(items, loops)?;
    let otherwise = match end {
        Stop::End => Vec::new(),
        Stop::Eof => return Err(Error::new("{{if}} without {{end}}")),
        Stop::Else(rest) if rest.is_empty() => closed(items, loops)?,
        // `{{else if x}}` is an `if` nested in the else branch that shares its `{{end}}`.
        Stop::Else(rest) => match rest.first() {
            Some(Token::Ident(k)) if k == "if" => vec![if_node(&rest[1..], items, loops)?],
            _ => return Err(Error::new("unexpected tokens after {{else}}")),
        },
    };
    Ok(Node::If { cond, then, otherwise })
}

fn pipe(tokens: &[Token]) -> Result<Pipe, Error> {
    let mut vars = Vec::new();
    let mut declare = false;
    let mut rest = tokens;
    // `$a := ...`, `$a = ...` or `$i, $v := ...`
    let assign_at = tokens.iter().position(|t| matches!(t, Token::Declare | Token::Assign));
    if let Some(at) = assign_at {
        let names = &tokens[..at];
        if names
            .iter()
            .all(|t| matches!(t, Token::Var(_, f) if f.is_empty()) || *t == Token::Comma)
        {
            for t in names {
                if let Token::Var(name, _) = t {
                    vars.push(name.clone());
                }
            }
            declare = tokens[at] == Token::Declare;
            rest = &tokens[at + 1..];
        }
    }
    if rest.is_empty() {
        return Err(Error::new("missing value for command"));
    }
    let mut commands = Vec::new();
    let mut pos = 0;
    loop {
        let (command, used) = command(&rest[pos..])?;
        commands.push(command);
        pos += used;
        match rest.get(pos) {
            None => break,
            Some(Token::Pipe) => pos += 1,
            Some(t) => return Err(Error::new(format!("unexpected {t:?}"))),
        }
    }
    Ok(Pipe {
        vars,
        declare,
        commands,
    })
}

/// One command: operands up to a `|`, a `)` or the end.
fn command(tokens: &[Token]) -> Result<(Command, usize), Error> {
    let mut args = Vec::new();
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        let arg = match token {
            Token::Pipe | Token::RParen => break,
            Token::Ident(name) => match name.as_str() {
                "true" => Arg::Literal(Value::Bool(true)),
                "false" => Arg::Literal(Value::Bool(false)),
                "nil" => Arg::Literal(Value::Null),
                _ => Arg::Func(name.clone()),
            },
            Token::Field(names) => Arg::Field(names.clone()),
            Token::Var(name, names) => Arg::Var(name.clone(), names.clone()),
            Token::Str(s) => Arg::Literal(Value::String(s.clone())),
            Token::Number(n) => Arg::Literal(Value::Number(n.clone())),
            Token::LParen => {
                let close = matching_paren(&tokens[i..]).ok_or_else(|| Error::new("unclosed ("))? + i;
                let inner = pipe(&tokens[i + 1..close])?;
                i = close;
                let chain = match tokens.get(i + 1) {
                    Some(Token::Chain(names)) => {
                        i += 1;
                        names.clone()
                    }
                    _ => Vec::new(),
                };
                Arg::Sub(Box::new(inner), chain)
            }
            t => return Err(Error::new(format!("unexpected {t:?}"))),
        };
        args.push(arg);
        i += 1;
    }
    if args.is_empty() {
        return Err(Error::new("empty command"));
    }
    Ok((Command { args }, i))
}

fn matching_paren(tokens: &[Token]) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}
