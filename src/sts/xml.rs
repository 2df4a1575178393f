//! STS XML responses: `AssumeRoleResponse`, `GetCallerIdentityResponse` and `ErrorResponse`.
//!
//! Element order follows live STS. Every builder takes the request id that the caller also
//! sends in the [`REQUEST_ID_HEADER`] header; [`new_request_id`] makes one.

use std::fmt::Write as _;

use super::error::{StsError, StsErrorCode};
use super::token::TemporaryCredentials;

/// The `Content-Type` of every STS response.
pub(crate) const CONTENT_TYPE: &str = "text/xml";
/// The header carrying the request id, equal to the body's `RequestId`.
pub(crate) const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const FAULT_NAMESPACE: &str = "http://webservices.amazon.com/AWSFault/2005-15-09";

/// A fresh request id: a random (version 4) UUID in its hyphenated lowercase form.
pub(crate) fn new_request_id() -> String {
    crate::verify::response::request_id()
}

use crate::xml::escape_into;
pub(crate) use crate::xml::format_time;

/// The body of a successful AssumeRole.
///
/// `assumed_role_id` is `AROA…:SESSION` and `arn` the session ARN (see
/// [`SessionClaims`](super::SessionClaims)); `packed_policy_size` is given only when a
/// session policy or tags were passed.
pub(crate) fn assume_role_response(
    assumed_role_id: &str,
    arn: &str,
    credentials: &TemporaryCredentials,
    packed_policy_size: Option<u32>,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(1024 + credentials.session_token.len());
    out.push_str("<AssumeRoleResponse xmlns=\"");
    out.push_str(STS_NAMESPACE);
    out.push_str("\">\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n");
    element(&mut out, "      ", "AssumedRoleId", assumed_role_id);
    element(&mut out, "      ", "Arn", arn);
    out.push_str("    </AssumedRoleUser>\n    <Credentials>\n");
    element(
        &mut out,
        "      ",
        "AccessKeyId",
        &credentials.access_key_id,
    );
    element(
        &mut out,
        "      ",
        "SecretAccessKey",
        credentials.secret_access_key.expose_secret(),
    );
    element(
        &mut out,
        "      ",
        "SessionToken",
        &credentials.session_token,
    );
    element(
        &mut out,
        "      ",
        "Expiration",
        &format_time(credentials.expiration),
    );
    out.push_str("    </Credentials>\n");
    if let Some(size) = packed_policy_size {
        let _ = writeln!(out, "    <PackedPolicySize>{size}</PackedPolicySize>");
    }
    out.push_str("  </AssumeRoleResult>\n");
    response_metadata(&mut out, request_id);
    out.push_str("</AssumeRoleResponse>\n");
    out
}

/// The body of a successful GetCallerIdentity: the caller's ARN, its `aws:userid`
/// (`AIDA…` for a user, `AROA…:SESSION` for a role session) and its account.
pub(crate) fn get_caller_identity_response(
    arn: &str,
    user_id: &str,
    account: &str,
    request_id: &str,
) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<GetCallerIdentityResponse xmlns=\"");
    out.push_str(STS_NAMESPACE);
    out.push_str("\">\n  <GetCallerIdentityResult>\n");
    element(&mut out, "    ", "Arn", arn);
    element(&mut out, "    ", "UserId", user_id);
    element(&mut out, "    ", "Account", account);
    out.push_str("  </GetCallerIdentityResult>\n");
    response_metadata(&mut out, request_id);
    out.push_str("</GetCallerIdentityResponse>\n");
    out
}

/// The body of an error: `ErrorResponse` in the STS namespace, or in the AWS fault
/// namespace for `InvalidAction`. Send it with [`StsError::status`].
pub(crate) fn error_response(error: &StsError, request_id: &str) -> String {
    let namespace = if error.code() == StsErrorCode::InvalidAction {
        FAULT_NAMESPACE
    } else {
        STS_NAMESPACE
    };
    let mut out = String::with_capacity(256 + error.message().len());
    out.push_str("<ErrorResponse xmlns=\"");
    out.push_str(namespace);
    out.push_str("\">\n  <Error><Type>");
    out.push_str(error.error_type().as_str());
    out.push_str("</Type><Code>");
    out.push_str(error.code().as_str());
    out.push_str("</Code><Message>");
    escape_into(&mut out, error.message());
    out.push_str("</Message></Error>\n  <RequestId>");
    escape_into(&mut out, request_id);
    out.push_str("</RequestId>\n</ErrorResponse>\n");
    out
}

fn response_metadata(out: &mut String, request_id: &str) {
    out.push_str("  <ResponseMetadata><RequestId>");
    escape_into(out, request_id);
    out.push_str("</RequestId></ResponseMetadata>\n");
}

fn element(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}
