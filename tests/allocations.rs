//! Heap allocations per verification of benchmark case (1), a GET with a query and 5 headers,
//! counted with an instrumented global allocator (steady state: signing key cached).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/common/mod.rs"]
mod common;

use std::alloc::System;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The count measured (10 before the hot path was trimmed, 5 before `Principal` became one
/// `Arc`); a change that allocates more fails here. The 1 is the vector of query pairs.
const MAX_ALLOCATIONS: usize = 1;

/// Through the layer (a key provider and a policy that answer at once, an inner service that
/// allocates nothing): the verification's allocations, plus the request's extensions (http's
/// boxed map, its table, and the two values the layer puts in it: the principal and the
/// verified facts). Before the layer authenticated inside `call`, a boxed future per request
/// came on top; it still does for a policy that answers later (checked below).
const MAX_LAYER_ALLOCATIONS: usize = MAX_ALLOCATIONS + 4;

// One test in this binary, so no other test thread allocates while we count.
#[test]
fn verifying_a_get_allocates_at_most_the_measured_count() {
    let case = common::get_query_5_headers();
    let parts = common::signed(&case);
    let verifier = common::verifier();
    let now = common::now();
    // Warm up: the signing key is derived and cached on the first request.
    common::block_on(verifier.verify(&parts, &case.body, now)).unwrap();

    let mut counts = Vec::new();
    for _ in 0..5 {
        let region = Region::new(GLOBAL);
        let verified = common::block_on(verifier.verify(&parts, &case.body, now));
        drop(verified);
        counts.push(region.change().allocations);
    }
    // The least of a few runs: a stray allocation of another thread cannot inflate it.
    let count = counts.iter().copied().min().unwrap();
    println!("heap allocations per verification of case (1): {count} (runs: {counts:?})");

    // The share of the principal, which every key provider returns by value.
    let verified = common::block_on(verifier.verify(&parts, &case.body, now)).unwrap();
    let region = Region::new(GLOBAL);
    let principal = verified.principal().clone();
    let principal_allocations = region.change().allocations;
    drop(principal);
    println!("  of which cloning the principal: {principal_allocations}");
    assert!(
        count <= MAX_ALLOCATIONS,
        "{count} allocations per verification, more than the {MAX_ALLOCATIONS} measured"
    );

    // The same request through the layer.
    use tower::{Layer, Service};
    let layer = tower_sigv4::VerifySigV4Layer::new(verifier.clone())
        .with_clock(tower_sigv4::FixedClock::new(now));
    let inner = tower::service_fn(|_request| {
        std::future::ready(Ok::<_, std::convert::Infallible>(http::Response::new(
            http_body_util::Empty::<bytes::Bytes>::new(),
        )))
    });
    let request =
        || http::Request::from_parts(parts.clone(), http_body_util::Empty::<bytes::Bytes>::new());
    let count_through = |layer: tower_sigv4::VerifySigV4Layer| {
        let mut service = layer.layer(inner);
        let mut once = || {
            let request = request();
            let region = Region::new(GLOBAL);
            let response = common::block_on(service.call(request)).unwrap();
            let allocations = region.change().allocations;
            assert_eq!(response.status(), 200);
            allocations
        };
        once();
        let counts: Vec<usize> = (0..5).map(|_| once()).collect();
        (counts.iter().copied().min().unwrap(), counts)
    };
    let (layer_count, layer_counts) = count_through(layer.clone());
    // A policy that answers with a future takes the boxed path: one allocation more.
    let later = layer.with_policy(|_: &tower_sigv4::PolicyRequest<'_>| {
        std::future::ready(tower_sigv4::PolicyDecision::Allow)
    });
    let (later_count, later_counts) = count_through(later);
    println!("  with a policy that answers later: {later_count} (runs: {later_counts:?})");
    assert!(later_count > layer_count, "{later_count} vs {layer_count}");
    println!(
        "heap allocations per request through the layer: {layer_count} (runs: {layer_counts:?})"
    );
    assert!(
        layer_count <= MAX_LAYER_ALLOCATIONS,
        "{layer_count} allocations per request through the layer, more than the {MAX_LAYER_ALLOCATIONS} measured"
    );
}
