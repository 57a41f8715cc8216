//! Splits a template into text and actions, applies the `{{-` / `-}}` whitespace trims,
//! and tokenises each action.

use crate::eval::Error;

/// A piece of the template: literal text, or the tokens of one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Text(String),
    Action(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A function name or keyword (`if`, `range`, `end`, ...).
    Ident(String),
    /// `.a.b` (empty for `.` alone).
    Field(Vec<String>),
    /// `$x.a.b` (`$` alone is the root).
    Var(String, Vec<String>),
    /// `.a.b` following a parenthesised expression.
    Chain(Vec<String>),
    Str(String),
    Number(serde_json::Number),
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
}

pub fn split(source: &str, left: &str, right: &str) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let mut rest = source;
    let mut trim_next = false;
    while let Some(start) = rest.find(left) {
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start();
        }
        let after = &rest[start + left.len()..];
        // `{{- ` trims the text before; the space is required so `{{-3}}` stays a number.
        let (trim_before, body_start) =
            if after.starts_with("- ") || after.starts_with("-\n") || after.starts_with("-\t") {
                (true, 2)
            } else {
                (false, 0)
            };
        if trim_before {
            text = text.trim_end();
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let after = &after[body_start..];
        let end = find_close(after, right).ok_or_else(|| Error::new(format!("unclosed action: missing {right:?}")))?;
        let mut body = &after[..end];
        trim_next = false;
        if body.ends_with(" -") || body.ends_with("\n-") || body.ends_with("\t-") {
            body = &body[..body.len() - 1];
            trim_next = true;
        }
        let body = body.trim();
        if !(body.starts_with("/*") && body.ends_with("*/")) {
            items.push(Item::Action(tokenize(body)?));
        }
        rest = &after[end + right.len()..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    if !text.is_empty() {
        items.push(Item::Text(text.to_string()));
    }
    Ok(items)
}

/// The offset of the closing delimiter, skipping delimiters inside string literals.
fn find_close(s: &str, right: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            _ if s[i..].starts_with(right) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads `.a.b.c` starting at a `.`; returns the names and the bytes consumed.
fn fields(s: &str) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut i = 0;
    while s[i..].starts_with('.') {
        let name: String = s[i + 1..].chars().take_while(|c| is_ident(*c)).collect();
        i += 1 + name.len();
        if name.is_empty() {
            break;
        }
        names.push(name);
    }
    (names, i)
}

fn tokenize(s: &str) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().expect("in bounds");
        let rest = &s[i..];
        match c {
            _ if c.is_whitespace() => i += c.len_utf8(),
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
                if s[i..].starts_with('.') {
                    let (names, used) = fields(&s[i..]);
                    tokens.push(Token::Chain(names));
                    i += used;
                }
            }
            '|' => {
                tokens.push(Token::Pipe);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            ':' if rest.starts_with(":=") => {
                tokens.push(Token::Declare);
                i += 2;
            }
            '=' => {
                tokens.push(Token::Assign);
                i += 1;
            }
            '.' => {
                let (names, used) = fields(rest);
                tokens.push(Token::Field(names));
                i += used.max(1);
            }
            '$' => {
                let name: String = rest[1..].chars().take_while(|c| is_ident(*c)).collect();
                let (names, used) = fields(&rest[1 + name.len()..]);
                tokens.push(Token::Var(name.clone(), names));
                i += 1 + name.len() + used;
            }
            '"' => {
                let mut end = 1;
                let bytes = rest.as_bytes();
                while end < bytes.len() && bytes[end] != b'"' {
                    if bytes[end] == b'\\' {
                        end += 1;
                    }
                    end += 1;
                }
                if end >= bytes.len() {
                    return Err(Error::new("unterminated string"));
                }
                let literal: String =
                    serde_json::from_str(&rest[..=end]).map_err(|e| Error::new(format!("bad string literal: {e}")))?;
                tokens.push(Token::Str(literal));
                i += end + 1;
            }
            '`' => {
                let end = rest[1..]
                    .find('`')
                    .ok_or_else(|| Error::new("unterminated raw string"))?;
                tokens.push(Token::Str(rest[1..1 + end].to_string()));
                i += end + 2;
            }
            '\'' => {
                // A Go rune literal is a number.
                let ch = rest[1..]
                    .chars()
                    .next()
                    .ok_or_else(|| Error::new("bad character literal"))?;
                if !rest[1 + ch.len_utf8()..].starts_with('\'') {
                    return Err(Error::new("bad character literal"));
                }
                tokens.push(Token::Number((ch as u32).into()));
                i += 2 + ch.len_utf8();
            }
            _ if c.is_ascii_digit()
                || ((c == '-' || c == '+') && rest[1..].starts_with(|d: char| d.is_ascii_digit())) =>
            {
                let len = rest[1..]
                    .find(|d: char| !(d.is_ascii_alphanumeric() || d == '.' || d == '_'))
                    .map_or(rest.len(), |p| p + 1);
                let text = rest[..len].replace('_', "");
                let text = text.strip_prefix('+').unwrap_or(&text);
                let number = if let Ok(n) = text.parse::<i64>() {
                    n.into()
                } else if let Some(hex) = text.strip_prefix("0x") {
                    i64::from_str_radix(hex, 16)
                        .map_err(|_| Error::new(format!("bad number {text:?}")))?
                        .into()
                } else {
                    let f: f64 = text.parse().map_err(|_| Error::new(format!("bad number {text:?}")))?;
                    serde_json::Number::from_f64(f).ok_or_else(|| Error::new(format!("bad number {text:?}")))?
                };
                tokens.push(Token::Number(number));
                i += len;
            }
            _ if is_ident(c) => {
                let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
                i += name.len();
                tokens.push(Token::Ident(name));
            }
            _ => return Err(Error::new(format!("unexpected {c:?} in action {s:?}"))),
        }
    }
    Ok(tokens)
}
