//! The STS XML responses (`error_response` with every error built from text,
//! `get_caller_identity_response`, `assume_role_response`) with arbitrary strings, through
//! `tower_sigv4::sts::fuzzing` (the builders are crate-private).
//!
//! Properties: never panics; every document is well formed (`tower_sigv4_fuzz::check_xml`:
//! balanced tags, no raw `<` or `&` in text, only XML 1.0 characters), and each element's text
//! reads back as the string given, with the characters XML cannot carry replaced by U+FFFD
//! (so the escaper escapes, and nothing else is lost).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use tower_sigv4::sts::fuzzing::{
    assume_role_response, error_response, get_caller_identity_response, SecretKey, StsError,
    TemporaryCredentials,
};
use tower_sigv4_fuzz::{check_xml, element_text};

#[derive(Arbitrary, Debug)]
enum Doc {
    Error {
        which: u8,
        a: String,
        b: String,
        c: String,
        request_id: String,
    },
    CallerIdentity {
        arn: String,
        user_id: String,
        account: String,
        request_id: String,
    },
    AssumeRole {
        assumed_role_id: String,
        arn: String,
        access_key_id: String,
        secret: String,
        token: String,
        expiration: i64,
        packed: Option<u32>,
        request_id: String,
    },
}

/// What an XML reader gets back for `text`.
fn readable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t'
            | '\n'
            | '\r'
            | '\u{20}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'..='\u{10FFFF}' => c,
            _ => '\u{FFFD}',
        })
        .collect()
}

fn well_formed(xml: &str) {
    if let Err(why) = check_xml(xml) {
        panic!("not well formed ({why:?}): {xml:?}");
    }
}

fn reads_back(xml: &str, element: &str, given: &str) {
    assert_eq!(
        element_text(xml, element).as_deref(),
        Some(readable(given).as_str()),
        "<{element}> does not read back: {xml:?}"
    );
}

fuzz_target!(|doc: Doc| {
    match doc {
        Doc::Error {
            which,
            a,
            b,
            c,
            request_id,
        } => {
            let error = match which % 11 {
                0 => StsError::validation_error(a),
                1 => StsError::malformed_input(a),
                2 => StsError::access_denied(&a, &b, &c),
                3 => StsError::access_denied_assume_role(&a, &b),
                4 => StsError::invalid_role_arn(&a),
                5 => StsError::invalid_action(&a, Some(&b)),
                6 => StsError::invalid_action(&a, None),
                7 => StsError::signature_does_not_match(a),
                8 => StsError::incomplete_signature(a),
                9 => StsError::invalid_parameter_value(a),
                _ => StsError::malformed_duration_seconds(&a),
            };
            let xml = error_response(&error, &request_id);
            well_formed(&xml);
            reads_back(&xml, "Message", error.message());
            reads_back(&xml, "RequestId", &request_id);
            reads_back(&xml, "Code", error.code().as_str());
        }
        Doc::CallerIdentity {
            arn,
            user_id,
            account,
            request_id,
        } => {
            let xml = get_caller_identity_response(&arn, &user_id, &account, &request_id);
            well_formed(&xml);
            reads_back(&xml, "Arn", &arn);
            reads_back(&xml, "UserId", &user_id);
            reads_back(&xml, "Account", &account);
            reads_back(&xml, "RequestId", &request_id);
        }
        Doc::AssumeRole {
            assumed_role_id,
            arn,
            access_key_id,
            secret,
            token,
            expiration,
            packed,
            request_id,
        } => {
            let expiration = OffsetDateTime::from_unix_timestamp(
                expiration.clamp(-62_135_596_800, 253_402_300_799),
            )
            .expect("in range");
            let creds = TemporaryCredentials::new(
                access_key_id.clone(),
                SecretKey::new(secret.clone()),
                token.clone(),
                expiration,
            );
            let xml = assume_role_response(&assumed_role_id, &arn, &creds, packed, &request_id);
            well_formed(&xml);
            reads_back(&xml, "AssumedRoleId", &assumed_role_id);
            reads_back(&xml, "Arn", &arn);
            reads_back(&xml, "AccessKeyId", &access_key_id);
            reads_back(&xml, "SecretAccessKey", &secret);
            reads_back(&xml, "SessionToken", &token);
            reads_back(&xml, "RequestId", &request_id);
            assert_eq!(xml.contains("<PackedPolicySize>"), packed.is_some());
        }
    }
});
