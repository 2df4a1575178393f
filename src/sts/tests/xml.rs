//! STS XML responses compared as exact strings.

use crate::credentials::SecretKey as SecretAccessKey;
use crate::sts::error::StsError;
use crate::sts::token::TemporaryCredentials;
use crate::sts::wire::StsRequest;
use crate::sts::xml::{
    assume_role_response, error_response, format_time, get_caller_identity_response,
    new_request_id, CONTENT_TYPE, REQUEST_ID_HEADER,
};
use time::macros::datetime;

const REQUEST_ID: &str = "c6104cbe-af31-11e0-8154-cbc7ccf896c7";

fn credentials() -> TemporaryCredentials {
    TemporaryCredentials::new(
        "ASIAABCDEFGHIJKLMNOP",
        SecretAccessKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
        datetime!(2026-11-23 13:34:41 UTC),
    )
}

#[test]
fn assume_role_without_packed_policy_size() {
    let xml = assume_role_response(
        "AROA3XFRBF535PLBIFPI4:TestAR",
        "arn:aws:sts::123456789012:assumed-role/demo/TestAR",
        &credentials(),
        None,
        REQUEST_ID,
    );
    assert_eq!(
        xml,
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:TestAR</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAABCDEFGHIJKLMNOP</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==</SessionToken>
      <Expiration>2026-11-23T13:34:41Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>
"#
    );
}

#[test]
fn assume_role_with_packed_policy_size() {
    let xml = assume_role_response(
        "AROA3XFRBF535PLBIFPI4:TestAR",
        "arn:aws:sts::123456789012:assumed-role/demo/TestAR",
        &credentials(),
        Some(6),
        REQUEST_ID,
    );
    assert!(xml.contains(
        "      <Expiration>2026-11-23T13:34:41Z</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>\n"
    ));
}

#[test]
fn get_caller_identity() {
    let xml = get_caller_identity_response(
        "arn:aws:iam::123456789012:user/alice",
        "AIDAJQABLZS4A3QDU576Q",
        "123456789012",
        REQUEST_ID,
    );
    assert_eq!(
        xml,
        r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/alice</Arn>
    <UserId>AIDAJQABLZS4A3QDU576Q</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>
"#
    );
}

#[test]
fn access_denied_error_with_escaping() {
    let error = StsError::access_denied_assume_role(
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::123456789012:role/<x&y\"z'>",
    );
    assert_eq!(
        error_response(&error, REQUEST_ID),
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/&lt;x&amp;y&quot;z&apos;&gt;</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
"#
    );
}

#[test]
fn validation_error_echo_is_escaped() {
    let error = StsRequest::from_query(
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/demo&RoleSessionName=%3C%26%22",
    )
    .unwrap_err();
    assert_eq!(
        error_response(&error, REQUEST_ID),
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>ValidationError</Code><Message>1 validation error detected: Value &apos;&lt;&amp;&quot;&apos; at &apos;roleSessionName&apos; failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
"#
    );
}

#[test]
fn control_characters_keep_the_xml_well_formed() {
    let error = StsError::malformed_input("a\u{0}b\rc\td");
    assert!(error_response(&error, REQUEST_ID).contains("<Message>a\u{FFFD}b&#13;c\td</Message>"));
}

#[test]
fn invalid_action_uses_the_fault_namespace() {
    let error = StsRequest::from_query("Action=Nope&Version=2011-06-15").unwrap_err();
    assert_eq!(
        error_response(&error, REQUEST_ID),
        r#"<ErrorResponse xmlns="http://webservices.amazon.com/AWSFault/2005-15-09">
  <Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Could not find operation Nope for version 2011-06-15</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
"#
    );
}

#[test]
fn internal_failure_is_receiver() {
    assert_eq!(
        error_response(&StsError::internal_failure(), REQUEST_ID),
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>The request processing has failed because of an unknown error, exception or failure.</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>
"#
    );
}

#[test]
fn request_ids_are_v4_uuids() {
    let a = new_request_id();
    let b = new_request_id();
    assert_ne!(a, b);
    // Hyphenated lower-case version 4: 8-4-4-4-12 hex digits, `4` at 14, the variant at 19.
    assert_eq!(a.len(), 36);
    assert_eq!(a.as_bytes().get(14), Some(&b'4'));
    assert!(matches!(
        a.as_bytes().get(19),
        Some(b'8' | b'9' | b'a' | b'b')
    ));
    for (i, c) in a.char_indices() {
        let hyphen = matches!(i, 8 | 13 | 18 | 23);
        assert!(
            if hyphen {
                c == '-'
            } else {
                matches!(c, '0'..='9' | 'a'..='f')
            },
            "{a}"
        );
    }
    assert_eq!(REQUEST_ID_HEADER, "x-amzn-RequestId");
    assert_eq!(CONTENT_TYPE, "text/xml");
}

#[test]
fn times_are_whole_seconds_utc() {
    assert_eq!(
        format_time(datetime!(2026-01-02 03:04:05.999 +02:00)),
        "2026-01-02T01:04:05Z"
    );
}
