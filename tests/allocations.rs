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
}
