//! The IAM wire format: validation messages, documents, envelopes.

use super::handler::{encode_document, envelope, error_body, validate_document};
use super::wire::{parse, Action};

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("Version", "2010-05-08");
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

fn message(pairs: &[(&str, &str)]) -> (String, String) {
    let e = parse(&form(pairs)).expect_err("refused");
    (e.code().to_owned(), e.message().to_owned())
}

#[test]
fn a_missing_version_or_an_unknown_action_is_invalid_action() {
    let e = parse(b"Action=GetUser").unwrap_err();
    assert_eq!(
        (e.code(), e.status(), e.message()),
        (
            "InvalidAction",
            400,
            "Could not find operation GetUser for version 2010-05-08"
        )
    );
    assert_eq!(
        message(&[("Action", "CreateGroup")]).1,
        "Could not find operation CreateGroup for version 2010-05-08"
    );
}

#[test]
fn every_failing_constraint_is_listed_in_model_order() {
    let long = "a".repeat(65);
    let (code, text) = message(&[
        ("Action", "CreateRole"),
        ("RoleName", &format!("{long} ")),
        ("Path", "x"),
    ]);
    assert_eq!(code, "ValidationError");
    assert_eq!(
        text,
        "4 validation errors detected: Value at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); Value at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64; Value at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn tags_are_named_by_position_and_tag_keys_as_a_whole() {
    let (_, text) = message(&[
        ("Action", "TagUser"),
        ("UserName", "a"),
        ("Tags.member.1.Key", "ok"),
        ("Tags.member.1.Value", "v"),
        ("Tags.member.2.Key", "bad*key"),
    ]);
    assert_eq!(
        text,
        "2 validation errors detected: Value at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+; Value at 'tags.2.member.value' failed to satisfy constraint: Member must not be null"
    );
    let (_, text) = message(&[
        ("Action", "UntagUser"),
        ("UserName", "a"),
        ("TagKeys.member.1", ""),
    ]);
    assert_eq!(
        text,
        "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, Member must not be null]"
    );
    // botocore's empty list and empty value are legal.
    let ok = parse(&form(&[
        ("Action", "CreateUser"),
        ("UserName", "a"),
        ("Tags", ""),
    ]))
    .unwrap();
    assert_eq!(ok.action, Action::CreateUser);
    assert!(ok.params.tags.is_empty());
    let ok = parse(&form(&[
        ("Action", "CreateUser"),
        ("UserName", "a"),
        ("Tags.member.1.Key", "équipe"),
        ("Tags.member.1.Value", ""),
    ]))
    .unwrap();
    assert_eq!(ok.params.tags, [("équipe".to_owned(), String::new())]);
    let many: Vec<(String, String)> = (1..=51)
        .flat_map(|i| {
            [
                (format!("Tags.member.{i}.Key"), format!("k{i}")),
                (format!("Tags.member.{i}.Value"), "v".to_owned()),
            ]
        })
        .collect();
    let mut pairs: Vec<(&str, &str)> = vec![("Action", "CreateUser"), ("UserName", "a")];
    pairs.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(
        message(&pairs).1,
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    );
}

#[test]
fn integers_that_are_not_are_malformed_input_and_the_first_field_wins() {
    assert_eq!(
        message(&[("Action", "ListRoles"), ("MaxItems", "1e3")]),
        (
            "MalformedInput".to_owned(),
            "Invalid value for parameter MaxItems: '1e3' is not an integer".to_owned()
        )
    );
    let body = b"Version=2010-05-08&Action=GetUser&UserName=first&UserName=second";
    assert_eq!(
        parse(body).unwrap().params.user_name.as_deref(),
        Some("first")
    );
    // `+` is a space, so this name is refused by the pattern.
    let body = b"Version=2010-05-08&Action=GetUser&UserName=a+b";
    assert_eq!(parse(body).unwrap_err().code(), "ValidationError");
}

#[test]
fn documents_are_percent_encoded_as_rfc_3986_says() {
    assert_eq!(
        encode_document("{\"a\": \"b c+d~e%\"}"),
        "%7B%22a%22%3A%20%22b%20c%2Bd~e%25%22%7D"
    );
    assert_eq!(encode_document("é"), "%C3%A9");
}

#[test]
fn envelopes_and_errors() {
    assert_eq!(
        envelope("DeleteUser", None, "id-1"),
        "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>id-1</RequestId></ResponseMetadata></DeleteUserResponse>"
    );
    assert_eq!(
        envelope("UpdateRole", Some(""), "id-2"),
        "<UpdateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><UpdateRoleResult/><ResponseMetadata><RequestId>id-2</RequestId></ResponseMetadata></UpdateRoleResponse>"
    );
    let e = super::error::IamError::no_such_user("b<ob");
    assert_eq!(
        error_body(&e, "id-3"),
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name b&lt;ob cannot be found.</Message></Error><RequestId>id-3</RequestId></ErrorResponse>"
    );
    assert_eq!(
        super::error::IamError::service_failure().error_type(),
        "Receiver"
    );
}

#[test]
fn policy_documents_get_iam_s_messages() {
    let cases = [
        ("[]", false, "Syntax errors in policy."),
        (
            r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            false,
            "Policy statement must contain actions.",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"a:b:c","Resource":"*"}]}"#,
            false,
            "Actions/Condition can contain only one colon.",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"a b:c","Resource":"*"}]}"#,
            false,
            "Vendor a b is not valid",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:x","Resource":"arn:nope:s3:::b"}]}"#,
            false,
            "Partition \"nope\" is not valid for resource \"arn:nope:s3:::b\".",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:x","Resource":"*","Bogus":1}]}"#,
            false,
            "Syntax errors in policy.",
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}"#,
            true,
            "Has prohibited field Resource",
        ),
    ];
    for (doc, trust, expected) in cases {
        let e = validate_document(doc, trust).expect_err(doc);
        assert_eq!(
            (e.code(), e.message()),
            ("MalformedPolicyDocument", expected),
            "{doc}"
        );
    }
    validate_document(r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["sts:AssumeRole","sts:TagSession"]}}"#, true).unwrap();
}
