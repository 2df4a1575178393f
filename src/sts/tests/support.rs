//! Helpers shared by the STS integration tests.

use crate::sts::error::StsError;
use crate::sts::wire::{AssumeRoleParams, StsRequest};

/// The role ARN most tests assume.
pub(crate) const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/demo";

/// A form body from field pairs, encoded as boto3 does (`+` for space).
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    serializer.finish().into_bytes()
}

/// Parses an AssumeRole body made of the standard fields followed by `extra`.
pub(crate) fn assume_role(extra: &[(&str, &str)]) -> Result<StsRequest, StsError> {
    let mut pairs = vec![("Action", "AssumeRole"), ("Version", "2011-06-15")];
    pairs.extend_from_slice(extra);
    StsRequest::from_form(&form(&pairs))
}

/// The validation message of an AssumeRole body, asserting a 400 `ValidationError`.
pub(crate) fn validation_message(extra: &[(&str, &str)]) -> String {
    let error = assume_role(extra).expect_err("request should be rejected");
    assert_eq!(error.code().as_str(), "ValidationError");
    assert_eq!(error.status(), 400);
    assert_eq!(error.error_type().as_str(), "Sender");
    error.message().to_owned()
}

/// The parameters of an accepted AssumeRole body.
pub(crate) fn params(extra: &[(&str, &str)]) -> AssumeRoleParams {
    match assume_role(extra).expect("request should be accepted") {
        StsRequest::AssumeRole(params) => params,
        other => panic!("expected AssumeRole, got {other:?}"),
    }
}
