//! IAM API errors: code, status and message, rendered as IAM's `ErrorResponse`.

use crate::store::{Entity, ManageError};
use crate::{Rejection, RejectionKind};

/// An IAM API error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IamError {
    code: &'static str,
    status: u16,
    message: String,
}

impl IamError {
    pub(crate) fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
        }
    }

    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn status(&self) -> u16 {
        self.status
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn error_type(&self) -> &'static str {
        if self.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        }
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationError", 400, message)
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("InvalidInput", 400, message)
    }

    pub(crate) fn malformed_input(message: impl Into<String>) -> Self {
        Self::new("MalformedInput", 400, message)
    }

    pub(crate) fn malformed_policy(message: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", 400, message)
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Self::new("LimitExceeded", 409, message)
    }

    pub(crate) fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", 403, message)
    }

    pub(crate) fn invalid_action(action: &str) -> Self {
        Self::new(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version 2010-05-08"),
        )
    }

    pub(crate) fn non_user() -> Self {
        Self::validation("Must specify userName when calling with non-User credentials")
    }

    pub(crate) fn duplicate_tags() -> Self {
        Self::invalid_input(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        )
    }

    pub(crate) fn no_such_user(name: &str) -> Self {
        Self::new(
            "NoSuchEntity",
            404,
            format!("The user with name {name} cannot be found."),
        )
    }

    pub(crate) fn no_such_role(name: &str) -> Self {
        Self::new(
            "NoSuchEntity",
            404,
            format!("The role with name {name} cannot be found."),
        )
    }

    pub(crate) fn service_failure() -> Self {
        Self::new(
            "ServiceFailure",
            500,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    pub(crate) fn read_only() -> Self {
        Self::invalid_input("identities come from the configuration file")
    }

    /// The answer to a rejection of the signature layer, in IAM's codes (the messages are the
    /// layer's, as errors.md words them).
    pub(crate) fn from_rejection(rejection: &Rejection) -> Self {
        use RejectionKind as K;
        let (code, status) = match rejection.kind() {
            K::MissingAuthentication => {
                return Self::new(
                    "MissingAuthenticationToken",
                    403,
                    "Request is missing Authentication Token",
                )
            }
            K::InvalidToken => {
                return Self::new(
                    "InvalidClientTokenId",
                    403,
                    "The security token included in the request is invalid.",
                )
            }
            K::ExpiredToken => {
                return Self::new(
                    "ExpiredToken",
                    403,
                    "The security token included in the request is expired",
                )
            }
            K::ProviderFailure | K::PolicyFailure => return Self::service_failure(),
            K::HeaderNotSigned
            | K::RequestTooOld
            | K::RequestTooNew
            | K::InvalidScope
            | K::SignatureMismatch
            | K::PayloadHashMismatch => ("SignatureDoesNotMatch", 403),
            K::PresignedExpired | K::AccessDenied => ("AccessDenied", 403),
            K::BodyTooLarge | K::BodyUnreadable => ("MalformedInput", 400),
            K::InvalidTarget => ("InvalidRequest", 400),
            K::BodyTimeout => ("RequestTimeout", 408),
            K::Overloaded => ("ServiceUnavailable", 503),
            _ => ("IncompleteSignature", 400),
        };
        Self::new(code, status, rejection.message())
    }
}

impl From<ManageError> for IamError {
    fn from(e: ManageError) -> Self {
        match e {
            ManageError::ReadOnly => Self::read_only(),
            ManageError::NoSuchUser(name) => Self::no_such_user(&name),
            ManageError::NoSuchRole(name) => Self::no_such_role(&name),
            ManageError::NoSuchPolicy(Entity::User, name) => Self::new(
                "NoSuchEntity",
                404,
                format!("The user policy with name {name} cannot be found."),
            ),
            ManageError::NoSuchPolicy(Entity::Role, name) => Self::new(
                "NoSuchEntity",
                404,
                format!("The role policy with name {name} cannot be found."),
            ),
            ManageError::NoSuchAccessKey(id) => Self::new(
                "NoSuchEntity",
                404,
                format!("The Access Key with id {id} cannot be found."),
            ),
            ManageError::AlreadyExists(Entity::User, name) => Self::new(
                "EntityAlreadyExists",
                409,
                format!("User with name {name} already exists."),
            ),
            ManageError::AlreadyExists(Entity::Role, name) => Self::new(
                "EntityAlreadyExists",
                409,
                format!("Role with name {name} already exists."),
            ),
            ManageError::KeyQuota => Self::limit("Cannot exceed quota for AccessKeysPerUser: 2"),
            ManageError::PolicySize(Entity::User, name) => Self::limit(format!(
                "Maximum policy size of 2048 bytes exceeded for user {name}"
            )),
            ManageError::PolicySize(Entity::Role, name) => Self::limit(format!(
                "Maximum policy size of 10240 bytes exceeded for role {name}"
            )),
            ManageError::TagQuota(Entity::User) => {
                Self::limit("Cannot exceed quota for TagsPerUser: 50")
            }
            ManageError::TagQuota(Entity::Role) => {
                Self::limit("Cannot exceed quota for TagsPerRole: 50")
            }
            ManageError::HasPolicies => Self::new(
                "DeleteConflict",
                409,
                "Cannot delete entity, must delete policies first.",
            ),
            ManageError::HasAccessKeys => Self::new(
                "DeleteConflict",
                409,
                "Cannot delete entity, must delete access keys first.",
            ),
            ManageError::Backend(e) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "iam: the store failed");
                Self::service_failure()
            }
        }
    }
}
