//! Wildcard patterns (`*`, `?`), action patterns and ARN patterns, compiled once at load time.

use super::context::{split_arn, RequestContext};
use super::variables::{split, Piece, Substitution, Var};

/// One token of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Literal text.
    Lit(Box<str>),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters (including `/` and `:`).
    Star,
    /// A policy variable, replaced by its value as literal text.
    Var(Var),
}

/// A compiled string pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// `*` alone.
    Any,
    /// Literal text only.
    Exact(Box<str>),
    /// Wildcards and/or variables (`true`: there is at least one variable).
    Toks(Box<[Tok]>, bool),
}

impl Pattern {
    /// Compiles `text`. With `wildcards`, `*` and `?` are wildcards; with `variables`, `${…}` is a policy
    /// variable (else literal text).
    pub(crate) fn compile(text: &str, wildcards: bool, variables: bool) -> Result<Pattern, String> {
        let pieces = if variables {
            split(text)?
        } else {
            vec![Piece::Text(text)]
        };
        let mut toks = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, toks: &mut Vec<Tok>| {
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(lit).into()));
            }
        };
        for piece in pieces {
            match piece {
                Piece::Text(t) if wildcards => {
                    for c in t.chars() {
                        match c {
                            '*' => {
                                flush(&mut lit, &mut toks);
                                if toks.last() != Some(&Tok::Star) {
                                    toks.push(Tok::Star);
                                }
                            }
                            '?' => {
                                flush(&mut lit, &mut toks);
                                toks.push(Tok::One);
                            }
                            c => lit.push(c),
                        }
                    }
                }
                Piece::Text(t) => lit.push_str(t),
                Piece::Sub(Substitution::Literal(c)) => lit.push(c),
                Piece::Sub(Substitution::Var(v)) => {
                    flush(&mut lit, &mut toks);
                    toks.push(Tok::Var(v));
                }
            }
        }
        flush(&mut lit, &mut toks);
        Ok(match toks.as_slice() {
            [] => Pattern::Exact("".into()),
            [Tok::Star] => Pattern::Any,
            [Tok::Lit(s)] => Pattern::Exact(s.clone()),
            _ => {
                let has_var = toks.iter().any(|t| matches!(t, Tok::Var(_)));
                Pattern::Toks(toks.into(), has_var)
            }
        })
    }

    /// Whether `input` matches. `ci` compares literal text ignoring case. A variable without a value (and
    /// without a default) makes the pattern match nothing.
    pub(crate) fn matches(&self, input: &str, ctx: &RequestContext, ci: bool) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) if ci => prefix_len(input, s, true) == Some(input.len()),
            Pattern::Exact(s) => **s == *input,
            Pattern::Toks(toks, _) => !self.has_unresolved(ctx) && glob(toks, input, ctx, ci),
        }
    }

    /// Whether the pattern has a variable without a value (and without a default) in `ctx`.
    pub(crate) fn has_unresolved(&self, ctx: &RequestContext) -> bool {
        match self {
            Pattern::Toks(toks, true) => toks
                .iter()
                .any(|t| matches!(t, Tok::Var(v) if v.resolve(ctx).is_none())),
            _ => false,
        }
    }
}

fn chars_eq(a: char, b: char, ci: bool) -> bool {
    a == b || (ci && a.to_lowercase().eq(b.to_lowercase()))
}

/// The byte length of the prefix of `input` equal to `lit`, if there is one.
fn prefix_len(input: &str, lit: &str, ci: bool) -> Option<usize> {
    if !ci {
        return input.starts_with(lit).then_some(lit.len());
    }
    let mut chars = input.char_indices();
    let mut end = 0;
    for l in lit.chars() {
        let (i, c) = chars.next()?;
        if !chars_eq(l, c, true) {
            return None;
        }
        end = i + c.len_utf8();
    }
    Some(end)
}

/// Greedy matching with backtracking to the last `*` (linear in the common case, O(n·m) at worst).
fn glob(toks: &[Tok], input: &str, ctx: &RequestContext, ci: bool) -> bool {
    let mut ti = 0;
    let mut pos = 0;
    let mut star: Option<(usize, usize)> = None;
    loop {
        let rest = input.get(pos..).unwrap_or("");
        let step = match toks.get(ti) {
            None if rest.is_empty() => return true,
            None => None,
            Some(Tok::Star) => {
                // Skip straight to the next occurrence of the literal that follows the star, if any.
                let Some(at) = seek(toks.get(ti + 1), input, pos, ci) else {
                    return false;
                };
                star = Some((ti + 1, at));
                ti += 1;
                pos = at;
                continue;
            }
            Some(Tok::One) => rest.chars().next().map(char::len_utf8),
            Some(Tok::Lit(s)) => prefix_len(rest, s, ci),
            Some(Tok::Var(v)) => v.resolve(ctx).and_then(|s| prefix_len(rest, s, ci)),
        };
        match step {
            Some(n) => {
                pos += n;
                ti += 1;
            }
            None => {
                let Some((star_ti, star_pos)) = star else {
                    return false;
                };
                let Some(c) = input.get(star_pos..).and_then(|r| r.chars().next()) else {
                    return false;
                };
                let Some(next) = seek(toks.get(star_ti), input, star_pos + c.len_utf8(), ci) else {
                    return false;
                };
                star = Some((star_ti, next));
                ti = star_ti;
                pos = next;
            }
        }
    }
}

/// The first position at or after `from` where the token after a `*` can start: for a case-sensitive literal,
/// its next occurrence (`None` if there is none, so nothing can match); otherwise `from` itself.
fn seek(next: Option<&Tok>, input: &str, from: usize, ci: bool) -> Option<usize> {
    match next {
        Some(Tok::Lit(s)) if !ci => {
            // A first-byte scan beats a substring searcher for the short literals of policies. A match of the
            // whole literal (valid UTF-8) can only start at a character boundary.
            let lit = s.as_bytes();
            let first = *lit.first()?;
            let bytes = input.as_bytes();
            (from..bytes.len()).find(|&i| {
                bytes.get(i) == Some(&first) && bytes.get(i..).is_some_and(|r| r.starts_with(lit))
            })
        }
        _ => Some(from),
    }
}

/// An action pattern (`execute-api:Invoke`, `execute-api:*`, `*`), matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionPattern(Pattern);

impl ActionPattern {
    /// Compiles `text`, which must be `*` or `service:action`.
    pub(crate) fn compile(text: &str) -> Result<ActionPattern, String> {
        let valid = text == "*"
            || text.split_once(':').is_some_and(|(service, action)| {
                !service.is_empty()
                    && !action.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !action.contains(':')
            });
        if !valid {
            return Err(format!("invalid action \"{text}\""));
        }
        Pattern::compile(&text.to_ascii_lowercase(), true, false).map(ActionPattern)
    }

    /// Whether the lower-cased action matches.
    pub(crate) fn matches(&self, action_lower: &str, ctx: &RequestContext) -> bool {
        self.0.matches(action_lower, ctx, false)
    }
}

/// An ARN pattern: `*`, six parts matched separately (the sixth is the remainder and may contain `:`), or fewer
/// parts of which the last ends in `*` and spans the rest of the ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    /// `*` alone: every resource.
    Any,
    /// The six parts.
    Parts(Box<[Pattern; 6]>),
    /// Two to five parts, the last ending in `*` (`arn:aws:execute-api:us-east-1:*`): the first ones are matched
    /// against the ARN's parts one by one, the last against the rest of the ARN, colons included.
    Prefix(Box<[Pattern]>),
}

impl ArnPattern {
    /// Compiles a Resource/NotResource value: variables (if enabled) only in the resource part, so never in a
    /// pattern of fewer than six parts.
    pub(crate) fn compile_resource(text: &str, variables: bool) -> Result<ArnPattern, String> {
        if text == "*" {
            return Ok(ArnPattern::Any);
        }
        let Some(parts) = split_arn(text) else {
            let parts: Vec<&str> = text.split(':').collect();
            return ArnPattern::compile_prefix(text, &parts, false);
        };
        if parts[0] != "arn" {
            return Err(invalid_arn(text));
        }
        let [p0, p1, p2, p3, p4, p5] = parts;
        let c = |p: &str| Pattern::compile(p, true, false);
        let compiled = [
            c(p0)?,
            c(p1)?,
            c(p2)?,
            c(p3)?,
            c(p4)?,
            Pattern::compile(p5, true, variables)?,
        ];
        Ok(ArnPattern::Parts(Box::new(compiled)))
    }

    /// Compiles an ARN condition value: variables (if enabled) anywhere; colons inside `${…}` do not split.
    pub(crate) fn compile_condition(text: &str, variables: bool) -> Result<ArnPattern, String> {
        if text == "*" {
            return Ok(ArnPattern::Any);
        }
        let mut cuts = Vec::with_capacity(5);
        let mut in_var = false;
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'{' if i > 0 && bytes.get(i - 1) == Some(&b'$') && variables => in_var = true,
                b'}' => in_var = false,
                b':' if !in_var && cuts.len() < 5 => cuts.push(i),
                _ => {}
            }
        }
        let part = |from: usize, to: usize| text.get(from..to).unwrap_or("");
        let Ok([a, b, c, d, e]) = <[usize; 5]>::try_from(cuts.as_slice()) else {
            let mut parts = Vec::with_capacity(cuts.len() + 1);
            let mut from = 0;
            for &cut in &cuts {
                parts.push(part(from, cut));
                from = cut + 1;
            }
            parts.push(part(from, text.len()));
            return ArnPattern::compile_prefix(text, &parts, variables);
        };
        let p = [
            part(0, a),
            part(a + 1, b),
            part(b + 1, c),
            part(c + 1, d),
            part(d + 1, e),
            part(e + 1, text.len()),
        ];
        if p[0] != "arn" {
            return Err(invalid_arn(text));
        }
        let c = |s: &str| Pattern::compile(s, true, variables);
        let compiled = [c(p[0])?, c(p[1])?, c(p[2])?, c(p[3])?, c(p[4])?, c(p[5])?];
        Ok(ArnPattern::Parts(Box::new(compiled)))
    }

    /// Compiles a pattern of fewer than six `parts` (of `text`): valid only if it starts with `arn` and has at
    /// least one more part, the last ending in `*` (iam.md "Matching").
    fn compile_prefix(text: &str, parts: &[&str], variables: bool) -> Result<ArnPattern, String> {
        let valid = parts.len() >= 2
            && parts.first() == Some(&"arn")
            && parts.last().is_some_and(|p| p.ends_with('*'));
        if !valid {
            return Err(invalid_arn(text));
        }
        let compiled = parts
            .iter()
            .map(|p| Pattern::compile(p, true, variables))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ArnPattern::Prefix(compiled.into()))
    }

    /// Whether the pattern has a variable without a value (and without a default) in `ctx`.
    pub(crate) fn has_unresolved(&self, ctx: &RequestContext) -> bool {
        match self {
            ArnPattern::Any => false,
            ArnPattern::Parts(parts) => parts.iter().any(|p| p.has_unresolved(ctx)),
            ArnPattern::Prefix(parts) => parts.iter().any(|p| p.has_unresolved(ctx)),
        }
    }

    /// Whether `arn`, already split into its six `parts` (`None`: fewer than six, so not an ARN), matches. `*`
    /// matches anything; the other patterns match nothing that is not split.
    pub(crate) fn matches_split(
        &self,
        arn: &str,
        parts: Option<[&str; 6]>,
        ctx: &RequestContext,
    ) -> bool {
        match (self, parts) {
            (ArnPattern::Any, _) => true,
            // The resource part first: it is the one that usually differs.
            (ArnPattern::Parts(patterns), Some(input)) => {
                let [p0, p1, p2, p3, p4, p5] = &**patterns;
                let [s0, s1, s2, s3, s4, s5] = input;
                let m = |p: &Pattern, s: &str| p.matches(s, ctx, false);
                m(p5, s5) && m(p0, s0) && m(p1, s1) && m(p2, s2) && m(p3, s3) && m(p4, s4)
            }
            (ArnPattern::Prefix(patterns), Some(input)) => {
                let Some((last, first)) = patterns.split_last() else {
                    return false;
                };
                // `parts` are consecutive slices of `arn` separated by single colons.
                let mut rest_at = 0;
                for (p, s) in first.iter().zip(input) {
                    if !p.matches(s, ctx, false) {
                        return false;
                    }
                    rest_at += s.len() + 1;
                }
                arn.get(rest_at..)
                    .is_some_and(|rest| last.matches(rest, ctx, false))
            }
            (_, None) => false,
        }
    }
}

fn invalid_arn(text: &str) -> String {
    format!("invalid ARN \"{text}\" (expected arn:partition:service:region:account:resource)")
}

#[cfg(test)]
mod tests {
    use super::super::context::{split_arn, Caller};
    use super::*;

    fn ctx() -> RequestContext {
        let c = Caller::user("arn:aws:iam::123456789012:user/bob", "AIDA")
            .unwrap()
            .with_tag("team", "a*");
        RequestContext::new(
            c,
            "execute-api:Invoke",
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/",
        )
    }

    fn m(pattern: &str, input: &str) -> bool {
        Pattern::compile(pattern, true, true)
            .unwrap()
            .matches(input, &ctx(), false)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("a*b?d", "axxbcd"));
        assert!(!m("a*b?d", "axxbd"));
        assert!(m("*/GET/*", "prod/GET/a/b:c"));
        assert!(m("a*a*a", "aaaaa"));
        assert!(!m("a*a*a", "aa"));
        assert!(m("é?", "éß"));
        assert!(m("${aws:username}/*", "bob/x"));
        assert!(!m("${aws:userid}x", "AIDAy"));
        // Variable values and ${*} are literal.
        assert!(m("${aws:PrincipalTag/team}", "a*"));
        assert!(!m("${aws:PrincipalTag/team}", "ab"));
        assert!(m("x${*}", "x*"));
        assert!(!m("x${*}", "xy"));
        // Missing variable: nothing matches, not even with a wildcard.
        assert!(!m("${aws:PrincipalTag/none}*", "anything"));
        assert!(m("${aws:PrincipalTag/none, 'd'}*", "dx"));
    }

    #[test]
    fn case_insensitive() {
        let p = Pattern::compile("ABC*", true, false).unwrap();
        assert!(p.matches("abcdef", &ctx(), true));
        assert!(!p.matches("abcdef", &ctx(), false));
    }

    #[test]
    fn arns() {
        let c = ctx();
        let am = |p: &ArnPattern, arn: &str| p.matches_split(arn, split_arn(arn), &c);
        let p =
            ArnPattern::compile_resource("arn:aws:execute-api:*:123456789012:api/*", true).unwrap();
        assert!(am(
            &p,
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/"
        ));
        assert!(!am(
            &p,
            "arn:aws:execute-api:us-east-1:123456789013:api/prod/GET/"
        ));
        assert!(!am(&p, "arn:aws:execute-api"));
        assert!(ArnPattern::compile_resource("arn:aws:s3", true).is_err());
        let q = ArnPattern::compile_condition("arn:aws:iam::${aws:PrincipalAccount}:user/*", true)
            .unwrap();
        assert!(am(&q, "arn:aws:iam::123456789012:user/bob"));
        // Fewer than six parts, the last ending in `*`: it spans the rest, colons included.
        let s = ArnPattern::compile_resource("arn:aws:execute-api:us-*", true).unwrap();
        assert!(am(&s, "arn:aws:execute-api:us-east-1:1:a:b"));
        assert!(!am(&s, "arn:aws:execute-api:eu-west-1:1:a"));
        assert!(!am(&s, "arn:aws:execute-api:us-east-1"));
        let t =
            ArnPattern::compile_condition("arn:aws:iam::${aws:PrincipalAccount}*", true).unwrap();
        assert!(am(&t, "arn:aws:iam::123456789012:user/bob"));
        assert!(!am(&t, "arn:aws:iam::123456789013:user/bob"));
        for bad in [
            "arn",
            "arn*",
            "arn:aws:s3:x",
            "arn:aws:s3:*:",
            "x:*",
            "arn:aws:s3:${*}",
        ] {
            assert!(ArnPattern::compile_resource(bad, true).is_err(), "{bad}");
            assert!(ArnPattern::compile_condition(bad, true).is_err(), "{bad}");
        }
        assert!(ActionPattern::compile("Invoke").is_err());
        assert!(ActionPattern::compile("execute-api:In*")
            .unwrap()
            .matches("execute-api:invoke", &c));
    }
}
