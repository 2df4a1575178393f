//! Session tags and source identity need permission: `Tags` (and `TransitiveTagKeys`) need
//! `sts:TagSession`, `SourceIdentity` needs `sts:SetSourceIdentity`, each allowed by the role's
//! trust policy and, where AssumeRole needs both, by the caller's identity policies. Tags are
//! checked as AWS checks them (keys unique ignoring case; transitive keys among the tags).

use std::collections::BTreeMap;

use time::OffsetDateTime;
use tower_sigv4::sts::SessionClaims;
use tower_sigv4::{KeyRequest, ProvideKey};

use super::*;

pub(super) const TAGGED: &str = "arn:aws:iam::123456789012:role/Tagged";
const BLUE_ONLY: &str = "arn:aws:iam::123456789012:role/BlueOnly";
const TEAM_KEYS_ONLY: &str = "arn:aws:iam::123456789012:role/TeamKeysOnly";
const AUDITED: &str = "arn:aws:iam::123456789012:role/Audited";
const ACCOUNT_TAGS: &str = "arn:aws:iam::123456789012:role/AccountTags";
const PARTNER_TAGS: &str = "arn:aws:iam::123456789012:role/PartnerTags";

/// The role policy of the ABAC tests: GET under `/<the session's team tag>/`.
const ABAC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/${aws:PrincipalTag/team}/*"}]}"#;

fn allow_actions(actions: &str, resource: &str) -> Policy {
    identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{actions}],"Resource":"{resource}"}}]}}"#
    ))
}

/// Callers and roles whose trust policies grant `sts:TagSession` / `sts:SetSourceIdentity`
/// in different ways.
pub(super) fn tag_store() -> SharedStore {
    let store = IdentityStore::builder()
        .user(
            User::new(ALICE)
                .unwrap()
                .with_access_key("AKIAALICE", "alice-secret")
                .with_policy(allow_actions(
                    r#""sts:AssumeRole","sts:TagSession""#,
                    ACCOUNT_TAGS,
                )),
        )
        .user(
            User::new(DAVE)
                .unwrap()
                .with_access_key("AKIADAVE", "dave-secret")
                .with_policy(allow_actions(r#""sts:AssumeRole""#, ACCOUNT_TAGS)),
        )
        .user(
            User::new(BOB)
                .unwrap()
                .with_access_key("AKIABOB", "bob-secret")
                .with_policy(allow_actions(r#""sts:AssumeRole""#, PARTNER_TAGS)),
        )
        .user(
            User::new(CAROL)
                .unwrap()
                .with_access_key("AKIACAROL", "carol-secret")
                .with_policy(allow_actions(
                    r#""sts:AssumeRole","sts:TagSession""#,
                    PARTNER_TAGS,
                )),
        )
        // Trusts alice for sts:AssumeRole only.
        .role(
            Role::new(INVOKER, trusting(ALICE, ""))
                .unwrap()
                .with_policy(identity(ABAC))
                .with_tag("team", "red"),
        )
        .role(
            Role::new(
                TAGGED,
                trust(&format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
                )),
            )
            .unwrap()
            .with_policy(identity(ABAC))
            .with_tag("team", "red"),
        )
        .role(
            Role::new(
                BLUE_ONLY,
                trust(&format!(
                    r#"{{"Version":"2012-10-17","Statement":[
                        {{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}},
                        {{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:TagSession",
                          "Condition":{{"StringEquals":{{"aws:RequestTag/team":"blue"}}}}}}]}}"#
                )),
            )
            .unwrap()
            .with_policy(identity(ABAC)),
        )
        .role(
            Role::new(
                TEAM_KEYS_ONLY,
                trust(&format!(
                    r#"{{"Version":"2012-10-17","Statement":[
                        {{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}},
                        {{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:TagSession",
                          "Condition":{{"ForAllValues:StringEquals":{{"aws:TagKeys":["team","project"]}}}}}}]}}"#
                )),
            )
            .unwrap(),
        )
        .role(
            Role::new(
                AUDITED,
                trust(&format!(
                    r#"{{"Version":"2012-10-17","Statement":[
                        {{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:AssumeRole"}},
                        {{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"sts:SetSourceIdentity",
                          "Condition":{{"StringLike":{{"sts:SourceIdentity":"alice*"}}}}}}]}}"#
                )),
            )
            .unwrap(),
        )
        // Trusts the account: the caller's identity policy decides.
        .role(
            Role::new(
                ACCOUNT_TAGS,
                trust(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
                ),
            )
            .unwrap()
            .with_tag("team", "red"),
        )
        // Trusts another account: both sides must allow.
        .role(
            Role::new(
                PARTNER_TAGS,
                trust(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::098765432109:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
                ),
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    SharedStore::new(store)
}

/// AssumeRole of `role` as session `tagged`, with `extra` fields, at `t0()`.
pub(super) async fn assume_in(
    store: &SharedStore,
    creds: &Credentials,
    role: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut fields = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role),
        ("RoleSessionName", "tagged"),
    ];
    fields.extend_from_slice(extra);
    sts_with(store, creds, &fields, t0()).await
}

/// The claims of the session a successful reply issued.
pub(super) fn claims_of(reply: &Reply) -> SessionClaims {
    let creds = reply.credentials();
    keyring()
        .open(
            creds.session_token().unwrap(),
            creds.access_key_id(),
            OffsetDateTime::from(t0()),
        )
        .unwrap()
}

/// The principal a verifier with the STS's keyring sees for the session a reply issued.
pub(super) fn principal_of(store: &SharedStore, reply: &Reply) -> Principal {
    let creds = reply.credentials();
    let keys = SessionKeys::new(store.clone(), keyring());
    let request = KeyRequest::new(
        creds.access_key_id(),
        creds.session_token(),
        "20261123",
        "us-east-1",
        "execute-api",
        t0(),
    );
    let resolved = block_on(keys.provide_key(request)).unwrap();
    resolved.principal().clone()
}

/// Polls a future that is ready at once (the session keys answer synchronously).
pub(super) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn tags_of(store: &SharedStore, reply: &Reply) -> BTreeMap<String, String> {
    principal_of(store, reply).tags().clone()
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A refusal carries no credentials.
fn assert_refused(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!(reply.error(), (status, code, message), "{}", reply.body);
    assert!(reply.body.contains("<Type>Sender</Type>"), "{}", reply.body);
    assert!(!reply.body.contains("<Credentials>"), "{}", reply.body);
    assert!(!reply.body.contains("ASIA"), "{}", reply.body);
}

#[tokio::test]
async fn tags_need_sts_tag_session_in_the_trust_policy() {
    let store = tag_store();
    // Invoker's trust policy allows alice sts:AssumeRole only.
    let reply = assume_in(
        &store,
        &alice(),
        INVOKER,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/Invoker",
    );
    // The denial is about the tags: without them alice gets a session.
    let reply = assume_in(&store, &alice(), INVOKER, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "red")]));

    // Tagged allows sts:TagSession: the session's aws:PrincipalTag/team is the passed tag.
    let reply = assume_in(
        &store,
        &alice(),
        TAGGED,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<PackedPolicySize>"), "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "blue")]));
    // ABAC through the verifier: the role's policy allows GET under /${aws:PrincipalTag/team}/.
    let creds = reply.credentials();
    let (status, body) = call_api(&store, &creds, "/blue/items", t0()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call_api(&store, &creds, "/red/items", t0()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:sts::123456789012:assumed-role/Tagged/tagged is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/red/items"}"#
    );
}

#[tokio::test]
async fn tag_denials_do_not_disclose_the_role() {
    let store = tag_store();
    let with_tags = [
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "blue"),
    ];
    // An unknown role, and a role that does not trust the caller at all, answer the
    // AssumeRole text even when tags are passed: sts:TagSession is judged only once
    // sts:AssumeRole is allowed.
    let reply = assume_in(
        &store,
        &alice(),
        "arn:aws:iam::123456789012:role/Nope",
        &with_tags,
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Nope",
    );
    let reply = assume_in(&store, &user("AKIADAVE", "dave-secret"), TAGGED, &with_tags).await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/dave is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Tagged",
    );
}

#[tokio::test]
async fn a_session_tag_overrides_a_role_tag_only_with_sts_tag_session() {
    let store = tag_store();
    let override_team = [
        ("Tags.member.1.Key", "Team"),
        ("Tags.member.1.Value", "blue"),
    ];
    // Invoker has the role tag team=red and does not allow sts:TagSession: no override.
    let reply = assume_in(&store, &alice(), INVOKER, &override_team).await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/Invoker",
    );

    // Tagged: the role tag team=red alone…
    let reply = assume_in(&store, &alice(), TAGGED, &[]).await;
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "red")]));
    let (status, body) = call_api(&store, &reply.credentials(), "/red/items", t0()).await;
    assert_eq!(status, 200, "{body}");

    // …is replaced by the session tag `Team` (keys compare ignoring case; case is kept).
    let reply = assume_in(&store, &alice(), TAGGED, &override_team).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("Team", "blue")]));
    let creds = reply.credentials();
    let (status, body) = call_api(&store, &creds, "/blue/items", t0()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call_api(&store, &creds, "/red/items", t0()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"Message":"User: arn:aws:sts::123456789012:assumed-role/Tagged/tagged is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:apiid/prod/GET/red/items"}"#
    );
}

#[tokio::test]
async fn trust_policy_conditions_on_aws_request_tag() {
    let store = tag_store();
    // BlueOnly allows sts:TagSession only when aws:RequestTag/team is "blue".
    let reply = assume_in(
        &store,
        &alice(),
        BLUE_ONLY,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "red"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/BlueOnly",
    );
    // A second, harmless tag does not help the red one through.
    let reply = assume_in(
        &store,
        &alice(),
        BLUE_ONLY,
        &[
            ("Tags.member.1.Key", "project"),
            ("Tags.member.1.Value", "apollo"),
            ("Tags.member.2.Key", "team"),
            ("Tags.member.2.Value", "red"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/BlueOnly",
    );
    let reply = assume_in(
        &store,
        &alice(),
        BLUE_ONLY,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "blue")]));
    // Condition key names ignore case, the tag-key suffix included.
    let reply = assume_in(
        &store,
        &alice(),
        BLUE_ONLY,
        &[
            ("Tags.member.1.Key", "TEAM"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("TEAM", "blue")]));
}

#[tokio::test]
async fn trust_policy_limits_the_tag_keys() {
    let store = tag_store();
    // TeamKeysOnly: ForAllValues:StringEquals aws:TagKeys ["team", "project"].
    let reply = assume_in(
        &store,
        &alice(),
        TEAM_KEYS_ONLY,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("Tags.member.2.Key", "project"),
            ("Tags.member.2.Value", "apollo"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        tags_of(&store, &reply),
        tags(&[("team", "blue"), ("project", "apollo")])
    );
    let reply = assume_in(
        &store,
        &alice(),
        TEAM_KEYS_ONLY,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("Tags.member.2.Key", "cost-center"),
            ("Tags.member.2.Value", "42"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/TeamKeysOnly",
    );
}

#[tokio::test]
async fn source_identity_needs_sts_set_source_identity() {
    let store = tag_store();
    let reply = assume_in(&store, &alice(), INVOKER, &[("SourceIdentity", "alice")]).await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:SetSourceIdentity on resource: arn:aws:iam::123456789012:role/Invoker",
    );
    // Audited allows sts:SetSourceIdentity when sts:SourceIdentity is like "alice*".
    let reply = assume_in(&store, &alice(), AUDITED, &[("SourceIdentity", "alice")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(claims_of(&reply).source_identity.as_deref(), Some("alice"));
    let reply = assume_in(&store, &alice(), AUDITED, &[("SourceIdentity", "mallory")]).await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:SetSourceIdentity on resource: arn:aws:iam::123456789012:role/Audited",
    );
    // sts:SetSourceIdentity does not stand in for sts:TagSession.
    let reply = assume_in(
        &store,
        &alice(),
        AUDITED,
        &[
            ("SourceIdentity", "alice"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/Audited",
    );
}

#[tokio::test]
async fn tag_session_needs_the_callers_identity_policy_where_assume_role_does() {
    let store = tag_store();
    let with_tags = [
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "blue"),
    ];
    // Another account: PartnerTags trusts 098765432109 for both actions; bob's identity
    // policy allows sts:AssumeRole only, carol's both.
    let bob = user("AKIABOB", "bob-secret");
    let reply = assume_in(&store, &bob, PARTNER_TAGS, &with_tags).await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::098765432109:user/bob is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/PartnerTags",
    );
    let reply = assume_in(&store, &bob, PARTNER_TAGS, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = assume_in(
        &store,
        &user("AKIACAROL", "carol-secret"),
        PARTNER_TAGS,
        &with_tags,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "blue")]));

    // Same account, a trust policy naming only the account: dave's identity policy allows
    // sts:AssumeRole only, alice's both.
    let dave = user("AKIADAVE", "dave-secret");
    let reply = assume_in(&store, &dave, ACCOUNT_TAGS, &with_tags).await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/dave is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/AccountTags",
    );
    let reply = assume_in(&store, &dave, ACCOUNT_TAGS, &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "red")]));
    let reply = assume_in(&store, &alice(), ACCOUNT_TAGS, &with_tags).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("team", "blue")]));
}

#[tokio::test]
async fn duplicate_tag_keys_ignoring_case_are_invalid() {
    let store = tag_store();
    for (first, second) in [("Team", "team"), ("team", "team"), ("PROJECT", "project")] {
        let reply = assume_in(
            &store,
            &alice(),
            TAGGED,
            &[
                ("Tags.member.1.Key", first),
                ("Tags.member.1.Value", "a"),
                ("Tags.member.2.Key", second),
                ("Tags.member.2.Value", "b"),
            ],
        )
        .await;
        assert_refused(
            &reply,
            400,
            "InvalidParameterValue",
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        );
    }
}

#[tokio::test]
async fn transitive_tag_keys_must_name_passed_tags() {
    let store = tag_store();
    let reply = assume_in(
        &store,
        &alice(),
        TAGGED,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "project"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        400,
        "InvalidParameterValue",
        "The specified transitive tag key must be included in the requested tags.",
    );
    // No tags at all.
    let reply = assume_in(
        &store,
        &alice(),
        TAGGED,
        &[("TransitiveTagKeys.member.1", "team")],
    )
    .await;
    assert_refused(
        &reply,
        400,
        "InvalidParameterValue",
        "The specified transitive tag key must be included in the requested tags.",
    );
    // The second of two keys is the stranger.
    let reply = assume_in(
        &store,
        &alice(),
        TAGGED,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "team"),
            ("TransitiveTagKeys.member.2", "project"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        400,
        "InvalidParameterValue",
        "The specified transitive tag key must be included in the requested tags.",
    );
    // Keys compare ignoring case, as AWS does.
    let reply = assume_in(
        &store,
        &alice(),
        TAGGED,
        &[
            ("Tags.member.1.Key", "Team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "team"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(tags_of(&store, &reply), tags(&[("Team", "blue")]));
    // Valid transitive keys still need sts:TagSession.
    let reply = assume_in(
        &store,
        &alice(),
        INVOKER,
        &[
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("TransitiveTagKeys.member.1", "team"),
        ],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::123456789012:role/Invoker",
    );
}
