//! STS request parsing and validation: exact error texts of sts.md.

use super::support;

use crate::sts::error::StsError;
use crate::sts::wire::{check_duration, StsRequest, Tag};
use support::{assume_role, form, params, validation_message, ROLE_ARN};

#[test]
fn minimal_assume_role_has_defaults() {
    let p = params(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR")]);
    assert_eq!(p.role_arn, "arn:aws:iam::123456789012:role/demo");
    assert_eq!(p.role_session_name, "TestAR");
    assert_eq!(p.duration_seconds, 3600);
    assert_eq!(p.external_id, None);
    assert_eq!(p.policy, None);
    assert!(p.tags.is_empty());
    assert!(p.policy_arns.is_empty());
    assert_eq!(p.source_identity, None);
    assert_eq!(p.packed_policy_size(), None);
}

#[test]
fn all_fields_are_read() {
    let p = params(&[
        ("RoleArn", ROLE_ARN),
        ("RoleSessionName", "s+=,.@-_1"),
        ("DurationSeconds", "43200"),
        ("ExternalId", "ext:id/1"),
        ("Policy", r#"{"Version":"2012-10-17","Statement":[]}"#),
        ("Tags.member.2.Key", "team"),
        ("Tags.member.2.Value", "blue"),
        ("Tags.member.1.Key", "Project"),
        ("Tags.member.1.Value", "Été 2026"),
        (
            "PolicyArns.member.1.arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ),
        ("SourceIdentity", "alice@example.com"),
    ]);
    assert_eq!(p.role_session_name, "s+=,.@-_1");
    assert_eq!(p.duration_seconds, 43200);
    assert_eq!(p.external_id.as_deref(), Some("ext:id/1"));
    assert_eq!(
        p.policy.as_deref(),
        Some(r#"{"Version":"2012-10-17","Statement":[]}"#)
    );
    assert_eq!(
        p.tags,
        vec![Tag::new("Project", "Été 2026"), Tag::new("team", "blue")]
    );
    assert_eq!(
        p.policy_arns,
        vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );
    assert_eq!(p.source_identity.as_deref(), Some("alice@example.com"));
    assert!(p.packed_policy_size().is_some_and(|s| s >= 1));
}

#[test]
fn plus_is_a_space_and_first_field_wins_and_unknown_fields_are_ignored() {
    let body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo\
        &RoleSessionName=first&RoleSessionName=second&Policy=%7B%22a%22%3A+1%7D&Bogus=1&DurationSeconds=900\
        &DurationSeconds=junk";
    let StsRequest::AssumeRole(p) = StsRequest::from_form(body).unwrap() else {
        panic!("not AssumeRole");
    };
    assert_eq!(p.role_session_name, "first");
    assert_eq!(p.policy.as_deref(), Some(r#"{"a": 1}"#));
    assert_eq!(p.duration_seconds, 900);
}

#[test]
fn get_caller_identity_from_query_string() {
    let r = StsRequest::from_query("Action=GetCallerIdentity&Version=2011-06-15").unwrap();
    assert_eq!(r, StsRequest::GetCallerIdentity);
    assert_eq!(r.action(), "GetCallerIdentity");
}

#[test]
fn unknown_action() {
    let e = StsRequest::from_form(&form(&[
        ("Action", "GetSessionToken"),
        ("Version", "2011-06-15"),
    ]))
    .unwrap_err();
    assert_eq!(e.code().as_str(), "InvalidAction");
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.message(),
        "Could not find operation GetSessionToken for version 2011-06-15"
    );
}

#[test]
fn missing_version() {
    let e = StsRequest::from_form(&form(&[("Action", "AssumeRole"), ("RoleArn", ROLE_ARN)]))
        .unwrap_err();
    assert_eq!(e.code().as_str(), "InvalidAction");
    assert_eq!(
        e.message(),
        "Could not find operation AssumeRole for version NO_VERSION_SPECIFIED"
    );
}

#[test]
fn wrong_version_and_missing_action() {
    let e = StsRequest::from_query("Action=GetCallerIdentity&Version=2010-01-01").unwrap_err();
    assert_eq!(
        e.message(),
        "Could not find operation GetCallerIdentity for version 2010-01-01"
    );
    let e = StsRequest::from_query("Version=2011-06-15").unwrap_err();
    assert_eq!(e.code().as_str(), "InvalidAction");
    assert_eq!(
        e.message(),
        "Could not find operation  for version 2011-06-15"
    );
}

#[test]
fn session_name_bad_pattern() {
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "bad name!")]),
        r"1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
    );
}

#[test]
fn session_name_non_ascii_word_is_not_w() {
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "café")]),
        r"1 validation error detected: Value 'café' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
    );
}

#[test]
fn session_name_too_long() {
    let name = "a".repeat(65);
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", &name)]),
        format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"
        )
    );
    // 64 is fine.
    params(&[("RoleArn", ROLE_ARN), ("RoleSessionName", &"a".repeat(64))]);
}

#[test]
fn session_name_too_short() {
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "a")]),
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
    );
}

#[test]
fn two_faults_pattern_before_length() {
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "!")]),
        r"2 validation errors detected: Value '!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*; Value '!' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
    );
}

#[test]
fn two_faults_in_two_members() {
    assert_eq!(
        validation_message(&[("RoleSessionName", "x"), ("DurationSeconds", "60")]),
        "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
    );
}

#[test]
fn missing_role_arn() {
    assert_eq!(
        validation_message(&[("RoleSessionName", "TestAR")]),
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn missing_everything() {
    assert_eq!(
        validation_message(&[]),
        "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn role_arn_too_short() {
    assert_eq!(
        validation_message(&[("RoleArn", "arn:aws:iam::1:role"), ("RoleSessionName", "TestAR")]),
        "1 validation error detected: Value 'arn:aws:iam::1:role' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
    );
}

#[test]
fn role_arn_not_an_arn() {
    assert_eq!(
        validation_message(&[
            ("RoleArn", "this-is-not-an-arn-at-all"),
            ("RoleSessionName", "TestAR")
        ]),
        "this-is-not-an-arn-at-all is invalid"
    );
    assert_eq!(
        validation_message(&[
            ("RoleArn", "arn:aws:iam:123456789012:role"),
            ("RoleSessionName", "TestAR")
        ]),
        "arn:aws:iam:123456789012:role is invalid"
    );
}

#[test]
fn validation_errors_come_before_the_arn_check() {
    assert_eq!(
        validation_message(&[("RoleArn", "this-is-not-an-arn-at-all"), ("RoleSessionName", "a")]),
        "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
    );
}

#[test]
fn duration_below_range() {
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR"), ("DurationSeconds", "899")]),
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
    );
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR"), ("DurationSeconds", "-5")]),
        "1 validation error detected: Value '-5' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
    );
}

#[test]
fn duration_above_range() {
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR"), ("DurationSeconds", "43201")]),
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
    );
}

#[test]
fn duration_bounds_are_inclusive() {
    for d in ["900", "43200"] {
        let p = params(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("DurationSeconds", d),
        ]);
        assert_eq!(p.duration_seconds.to_string(), d);
    }
}

#[test]
fn duration_not_an_integer() {
    for raw in ["abc", "3600.0", "", " 3600", "99999999999"] {
        let e = assume_role(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("DurationSeconds", raw),
        ])
        .unwrap_err();
        assert_eq!(e.code().as_str(), "MalformedInput", "{raw:?}");
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.message(),
            format!("Invalid value for parameter DurationSeconds: '{raw}' is not an integer")
        );
    }
}

#[test]
fn malformed_duration_outranks_validation() {
    let e = assume_role(&[("DurationSeconds", "x")]).unwrap_err();
    assert_eq!(e.code().as_str(), "MalformedInput");
}

#[test]
fn external_id_and_source_identity_constraints() {
    assert_eq!(
        validation_message(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("ExternalId", "x"),
            ("SourceIdentity", "a b")
        ]),
        r"2 validation errors detected: Value 'x' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2; Value 'a b' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
    );
    let long = "e".repeat(1225);
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR"), ("ExternalId", &long)]),
        format!("1 validation error detected: Value '{long}' at 'externalId' failed to satisfy constraint: Member must have length less than or equal to 1224")
    );
    assert_eq!(
        validation_message(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("ExternalId", "no spaces")
        ]),
        r"1 validation error detected: Value 'no spaces' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@:\/-]*"
    );
}

#[test]
fn policy_constraints() {
    let long = "x".repeat(2049);
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR"), ("Policy", &long)]),
        format!("1 validation error detected: Value '{long}' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048")
    );
    assert_eq!(
        validation_message(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR"), ("Policy", "{\"a\":\"\u{0100}\"}")]),
        "1 validation error detected: Value '{\"a\":\"\u{0100}\"}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
    );
}

#[test]
fn tag_constraints() {
    assert_eq!(
        validation_message(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("Tags.member.1.Key", "ok"),
            ("Tags.member.2.Key", "bad<key>"),
            ("Tags.member.2.Value", "v"),
        ]),
        r"2 validation errors detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null; Value 'bad<key>' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+"
    );
}

#[test]
fn more_than_fifty_tags() {
    let keys: Vec<(String, String)> = (1..=51)
        .flat_map(|n| {
            [
                (format!("Tags.member.{n}.Key"), format!("k{n}")),
                (format!("Tags.member.{n}.Value"), "v".to_owned()),
            ]
        })
        .collect();
    let mut pairs: Vec<(&str, &str)> = vec![("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR")];
    pairs.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let message = validation_message(&pairs);
    assert!(
        message.starts_with(
            "1 validation error detected: Value '[{Key: k1,Value: v}, {Key: k2,Value: v}, "
        ),
        "{message}"
    );
    assert!(
        message.ends_with(", {Key: k51,Value: v}]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"),
        "{message}"
    );
    // Exactly fifty are fine.
    let p = params(&pairs[..2 + 100]);
    assert_eq!(p.tags.len(), 50);
}

#[test]
fn transitive_tag_keys_are_read_in_order() {
    let p = params(&[
        ("RoleArn", ROLE_ARN),
        ("RoleSessionName", "TestAR"),
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "blue"),
        ("Tags.member.2.Key", "Project"),
        ("Tags.member.2.Value", "apollo"),
        ("TransitiveTagKeys.member.2", "team"),
        ("TransitiveTagKeys.member.1", "project"),
        // Not list members: ignored like any unknown field.
        ("TransitiveTagKeys.member.01", "x"),
        ("TransitiveTagKeys.member.3.Key", "x"),
        ("TransitiveTagKeys.1", "x"),
    ]);
    assert_eq!(p.transitive_tag_keys, vec!["project", "team"]);
    assert!(
        params(&[("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR")])
            .transitive_tag_keys
            .is_empty()
    );
}

#[test]
fn transitive_tag_key_constraints() {
    assert_eq!(
        validation_message(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("TransitiveTagKeys.member.1", "ok"),
            ("TransitiveTagKeys.member.2", "bad<key>"),
        ]),
        r"1 validation error detected: Value '[ok, bad<key>]' at 'transitiveTagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+]"
    );
    let long = "k".repeat(129);
    assert_eq!(
        validation_message(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("TransitiveTagKeys.member.1", ""),
            ("TransitiveTagKeys.member.2", &long),
        ]),
        format!(
            r"1 validation error detected: Value '[, {long}]' at 'transitiveTagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\p{{L}}\p{{Z}}\p{{N}}_.:/=+\-@]+]"
        )
    );
    // 51 keys: too many (and, without tags, not tags either: the model's fault comes first).
    let keys: Vec<(String, String)> = (1..=51)
        .map(|n| (format!("TransitiveTagKeys.member.{n}"), format!("k{n}")))
        .collect();
    let mut pairs: Vec<(&str, &str)> = vec![("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR")];
    pairs.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let message = validation_message(&pairs);
    assert!(
        message.starts_with("1 validation error detected: Value '[k1, k2, k3, "),
        "{message}"
    );
    assert!(
        message.ends_with(", k51]' at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"),
        "{message}"
    );
    // Tags before transitive keys, in model order.
    assert_eq!(
        validation_message(&[
            ("RoleArn", ROLE_ARN),
            ("RoleSessionName", "TestAR"),
            ("TransitiveTagKeys.member.1", "a b<c"),
            ("Tags.member.1.Key", "k"),
        ]),
        r"2 validation errors detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null; Value '[a b<c]' at 'transitiveTagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+]"
    );
}

fn invalid_parameter_value(extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("RoleArn", ROLE_ARN), ("RoleSessionName", "TestAR")];
    pairs.extend_from_slice(extra);
    let error = assume_role(&pairs).expect_err("request should be rejected");
    assert_eq!(error.code().as_str(), "InvalidParameterValue");
    assert_eq!(error.status(), 400);
    assert_eq!(error.error_type().as_str(), "Sender");
    error.message().to_owned()
}

#[test]
fn duplicate_tag_keys_ignore_case() {
    // Case folds as the IAM engine folds aws:PrincipalTag keys (`str::to_lowercase`: a
    // final capital sigma becomes ς).
    for (first, second) in [
        ("team", "team"),
        ("Team", "tEAM"),
        ("Été", "éTÉ"),
        ("ΑΣ", "ας"),
    ] {
        assert_eq!(
            invalid_parameter_value(&[
                ("Tags.member.1.Key", first),
                ("Tags.member.1.Value", "a"),
                ("Tags.member.2.Key", "other"),
                ("Tags.member.2.Value", "b"),
                ("Tags.member.3.Key", second),
                ("Tags.member.3.Value", "c"),
            ]),
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            "{first} {second}"
        );
    }
    // Duplicates outrank a stray transitive key.
    assert_eq!(
        invalid_parameter_value(&[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "a"),
            ("Tags.member.2.Key", "TEAM"),
            ("Tags.member.2.Value", "b"),
            ("TransitiveTagKeys.member.1", "project"),
        ]),
        "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    );
    // A validation fault outranks both.
    assert!(validation_message(&[
        ("RoleArn", ROLE_ARN),
        ("RoleSessionName", "x"),
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "a"),
        ("Tags.member.2.Key", "TEAM"),
        ("Tags.member.2.Value", "b"),
    ])
    .starts_with("1 validation error detected: Value 'x' at 'roleSessionName'"));
}

#[test]
fn transitive_tag_keys_must_be_tags() {
    for extra in [
        &[("TransitiveTagKeys.member.1", "team")][..],
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "team"),
            ("TransitiveTagKeys.member.2", "teams"),
        ][..],
    ] {
        assert_eq!(
            invalid_parameter_value(extra),
            "The specified transitive tag key must be included in the requested tags.",
            "{extra:?}"
        );
    }
    // Case does not matter, and a key may be named twice.
    let p = params(&[
        ("RoleArn", ROLE_ARN),
        ("RoleSessionName", "TestAR"),
        ("Tags.member.1.Key", "Team"),
        ("Tags.member.1.Value", "blue"),
        ("TransitiveTagKeys.member.1", "TEAM"),
        ("TransitiveTagKeys.member.2", "team"),
    ]);
    assert_eq!(p.transitive_tag_keys, vec!["TEAM", "team"]);
}

#[test]
fn check_duration_role_maximum() {
    let e = check_duration(7200, 3600, false).unwrap_err();
    assert_eq!(e.code().as_str(), "ValidationError");
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.message(),
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    assert!(check_duration(3600, 3600, false).is_ok());
    assert!(check_duration(43200, 43200, false).is_ok());
}

#[test]
fn check_duration_role_chaining() {
    let e = check_duration(3601, 43200, true).unwrap_err();
    assert_eq!(
        e.message(),
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    );
    assert!(check_duration(3600, 43200, true).is_ok());
}

#[test]
fn check_duration_order() {
    // Role maximum before chaining.
    assert_eq!(
        check_duration(7200, 3600, true).unwrap_err().message(),
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    // Range before both.
    assert_eq!(
        check_duration(50000, 3600, true).unwrap_err().message(),
        "1 validation error detected: Value '50000' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
    );
}

#[test]
fn error_table_codes_statuses_and_texts() {
    let cases: Vec<(StsError, &str, u16, &str, &str)> = vec![
        (
            StsError::access_denied_assume_role("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:role/x"),
            "AccessDenied", 403, "Sender",
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/x",
        ),
        (StsError::expired_token(), "ExpiredToken", 403, "Sender", "The security token included in the request is expired"),
        (StsError::invalid_client_token_id(), "InvalidClientTokenId", 403, "Sender", "The security token included in the request is invalid."),
        (StsError::signature_does_not_match("sig text"), "SignatureDoesNotMatch", 403, "Sender", "sig text"),
        (StsError::incomplete_signature("inc text"), "IncompleteSignature", 400, "Sender", "inc text"),
        (StsError::missing_authentication_token(), "MissingAuthenticationToken", 403, "Sender", "Request is missing Authentication Token"),
        (StsError::malformed_policy_document("Syntax errors in policy."), "MalformedPolicyDocument", 400, "Sender", "Syntax errors in policy."),
        (StsError::malformed_input("bad"), "MalformedInput", 400, "Sender", "bad"),
        (
            StsError::access_denied("arn:aws:iam::123456789012:user/alice", "sts:TagSession", "arn:aws:iam::123456789012:role/x"),
            "AccessDenied", 403, "Sender",
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/x",
        ),
        (
            StsError::duplicate_tag_keys(), "InvalidParameterValue", 400, "Sender",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
        (
            StsError::transitive_tag_key_not_in_tags(), "InvalidParameterValue", 400, "Sender",
            "The specified transitive tag key must be included in the requested tags.",
        ),
        (
            StsError::internal_failure(), "InternalFailure", 500, "Receiver",
            "The request processing has failed because of an unknown error, exception or failure.",
        ),
    ];
    for (error, code, status, kind, message) in cases {
        assert_eq!(error.code().as_str(), code);
        assert_eq!(error.status(), status, "{code}");
        assert_eq!(error.error_type().as_str(), kind, "{code}");
        assert_eq!(error.message(), message);
    }
    assert_eq!(
        StsError::expired_token().to_string(),
        "expired security token"
    );
}
