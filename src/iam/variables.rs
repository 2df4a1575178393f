//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}`, `${?}`, `${$}`.
//!
//! Variables are recognised only in policies with `"Version": "2012-10-17"`, only in the resource part of a
//! Resource (after the fifth colon) and in String/ARN condition values. A variable's value is always literal
//! text: a `*` or `?` it produces is not a wildcard. A Resource pattern of fewer than six parts has no resource
//! part, so no variables.
//!
//! A variable has no value when its key is absent or multi-valued and it has no default. A pattern carrying such a
//! variable matches nothing; an Allow whose `NotResource` carries one does not apply (see `policy.rs`).

use super::context::{KeyId, RequestContext};

/// A policy variable: the key it reads and its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Var {
    key: KeyId,
    default: Option<Box<str>>,
}

/// What `${…}` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Substitution {
    /// `${*}`, `${?}`, `${$}`: a literal character.
    Literal(char),
    /// A context key, with an optional default.
    Var(Var),
}

/// Parses the text between `${` and `}`.
pub(crate) fn parse_inner(inner: &str) -> Result<Substitution, String> {
    match inner.trim() {
        "*" => return Ok(Substitution::Literal('*')),
        "?" => return Ok(Substitution::Literal('?')),
        "$" => return Ok(Substitution::Literal('$')),
        _ => {}
    }
    let (name, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((name, rest)) => {
            let rest = rest.trim();
            let quoted = rest
                .strip_prefix('\'')
                .and_then(|r| r.strip_suffix('\''))
                .filter(|d| !d.contains('\''))
                .ok_or_else(|| format!("invalid default in policy variable \"${{{inner}}}\""))?;
            (name.trim(), Some(quoted.into()))
        }
    };
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!("invalid policy variable \"${{{inner}}}\""));
    }
    Ok(Substitution::Var(Var {
        key: KeyId::parse(name),
        default,
    }))
}

/// A piece of text that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text outside any variable.
    Text(&'a str),
    /// A `${…}` substitution.
    Sub(Substitution),
}

/// Splits `text` into literal text and substitutions. Errors on an unterminated `${`.
pub(crate) fn split(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            out.push(Piece::Text(rest.get(..start).unwrap_or("")));
        }
        let after = rest.get(start + 2..).unwrap_or("");
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated policy variable in \"{text}\""))?;
        out.push(Piece::Sub(parse_inner(after.get(..end).unwrap_or(""))?));
        rest = after.get(end + 1..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

impl Var {
    /// The variable's value in `ctx`: the key's single value, else the default, else `None` (missing).
    pub(crate) fn resolve<'a>(&'a self, ctx: &'a RequestContext) -> Option<&'a str> {
        ctx.single(&self.key).or(self.default.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(parse_inner("*"), Ok(Substitution::Literal('*')));
        assert_eq!(parse_inner("$"), Ok(Substitution::Literal('$')));
        assert_eq!(
            parse_inner("aws:PrincipalTag/Team, 'company-wide'"),
            Ok(Substitution::Var(Var {
                key: KeyId::PrincipalTag("team".into()),
                default: Some("company-wide".into())
            }))
        );
        assert_eq!(
            parse_inner(""),
            Err("invalid policy variable \"${}\"".to_owned())
        );
        assert_eq!(
            parse_inner("a, b"),
            Err("invalid default in policy variable \"${a, b}\"".to_owned())
        );
        assert_eq!(
            split("x${aws:username"),
            Err("unterminated policy variable in \"x${aws:username\"".to_owned())
        );
        assert_eq!(split("a${*}b").unwrap().len(), 3);
    }
}
