//! `sts::StsRequest::from_form` on arbitrary bytes and `from_query` on arbitrary text (the
//! crate-private parser, through `tower_sigv4::sts::fuzzing`, which hands on every field of
//! the parsed request).
//!
//! Properties: never panics; `from_query(s)` answers as `from_form(s)`; an accepted
//! AssumeRole satisfies the documented constraints (duration 900–43200, session name 2–64
//! characters of `[\w+=,.@-]`, role ARN of 20–2048 characters shaped like an ARN, at most 10
//! policy ARNs, 50 tags with keys unique ignoring case, 50 transitive keys each naming a tag,
//! `PackedPolicySize` exactly when a policy or tags were passed) and survives a round trip
//! through a freshly encoded form; an error renders as a well-formed XML `ErrorResponse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_sigv4::sts::fuzzing::{check_duration, error_response, AssumeRoleParams, StsRequest};
use tower_sigv4_fuzz::check_xml;

fn encode(p: &AssumeRoleParams) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("Action", "AssumeRole");
    s.append_pair("Version", "2011-06-15");
    s.append_pair("RoleArn", &p.role_arn);
    s.append_pair("RoleSessionName", &p.role_session_name);
    s.append_pair("DurationSeconds", &p.duration_seconds.to_string());
    if let Some(id) = &p.external_id {
        s.append_pair("ExternalId", id);
    }
    if let Some(policy) = &p.policy {
        s.append_pair("Policy", policy);
    }
    for (i, arn) in p.policy_arns.iter().enumerate() {
        s.append_pair(&format!("PolicyArns.member.{}.arn", i + 1), arn);
    }
    for (i, tag) in p.tags.iter().enumerate() {
        s.append_pair(&format!("Tags.member.{}.Key", i + 1), &tag.key);
        s.append_pair(&format!("Tags.member.{}.Value", i + 1), &tag.value);
    }
    for (i, key) in p.transitive_tag_keys.iter().enumerate() {
        s.append_pair(&format!("TransitiveTagKeys.member.{}", i + 1), key);
    }
    if let Some(id) = &p.source_identity {
        s.append_pair("SourceIdentity", id);
    }
    s.finish()
}

fn session_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn check_assume_role(p: &AssumeRoleParams) {
    assert!((900..=43200).contains(&p.duration_seconds), "{p:?}");
    assert!(check_duration(p.duration_seconds, 43200, false).is_ok());
    let n = p.role_session_name.chars().count();
    assert!((2..=64).contains(&n), "{p:?}");
    assert!(p.role_session_name.chars().all(session_char), "{p:?}");
    let n = p.role_arn.chars().count();
    assert!((20..=2048).contains(&n), "{p:?}");
    assert!(p.role_arn.starts_with("arn:"), "{p:?}");
    assert!(p.policy_arns.len() <= 10, "{p:?}");
    assert!(p.tags.len() <= 50, "{p:?}");
    assert!(p.transitive_tag_keys.len() <= 50, "{p:?}");
    let keys: Vec<String> = p.tags.iter().map(|t| t.key.to_lowercase()).collect();
    for (i, k) in keys.iter().enumerate() {
        assert!(!keys[..i].contains(k), "duplicate tag key {k:?}");
    }
    for t in &p.transitive_tag_keys {
        assert!(
            keys.contains(&t.to_lowercase()),
            "transitive key {t:?} names no tag"
        );
    }
    if let Some(s) = &p.source_identity {
        assert!(s.chars().all(session_char) && (2..=64).contains(&s.chars().count()));
    }
    assert_eq!(p.packed_policy_size().is_some(), p.has_packed_policy());
    assert_eq!(
        p.has_packed_policy(),
        p.policy.is_some() || !p.policy_arns.is_empty() || !p.tags.is_empty()
    );
    let again = StsRequest::from_form(encode(p).as_bytes());
    assert_eq!(
        again,
        Ok(StsRequest::AssumeRole(p.clone())),
        "an accepted AssumeRole does not survive a round trip"
    );
}

fuzz_target!(|data: &[u8]| {
    let form = StsRequest::from_form(data);
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(StsRequest::from_query(text), form);
    }
    match &form {
        Ok(StsRequest::AssumeRole(p)) => check_assume_role(p),
        Ok(other) => assert_eq!(other.action(), "GetCallerIdentity"),
        Err(e) => {
            let _ = (e.code().as_str(), e.status(), e.error_type().as_str());
            let xml = error_response(e, "00000000-0000-4000-8000-000000000000");
            if let Err(why) = check_xml(&xml) {
                panic!("error response not well formed ({why:?}): {xml:?}");
            }
        }
    }
});
