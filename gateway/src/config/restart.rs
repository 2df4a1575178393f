//! What a reload of the configuration file cannot change.

use super::GatewayConfig;

/// The keys that differ between `old` and `new` but take effect only at restart: the
/// listeners, the upstream and what reaches it, TLS, and the connection limits. Everything
/// else — the API and its resource policy, `[auth]`, `[sts]`, `healthz`, the body deadlines
/// and the identities — reloads.
pub(crate) fn restart_only_changes(old: &GatewayConfig, new: &GatewayConfig) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut check = |key: &'static str, differs: bool| {
        if differs {
            changed.push(key);
        }
    };
    check("listen", old.listen != new.listen);
    check("upstream", old.upstream != new.upstream);
    check("store", old.store != new.store);
    check(
        "proxy.underscore_headers",
        old.proxy.underscore_headers != new.proxy.underscore_headers,
    );
    check(
        "proxy.upstream_protocol",
        old.proxy.upstream_protocol != new.proxy.upstream_protocol,
    );
    check(
        "proxy.upstream_ca_file",
        old.proxy.upstream_ca_file != new.proxy.upstream_ca_file,
    );
    let tls = |c: &GatewayConfig| c.tls.as_ref().map(|t| (t.cert.clone(), t.key.clone()));
    check("tls", tls(old) != tls(new));
    let metrics = |c: &GatewayConfig| c.metrics.as_ref().map(|m| m.listen.clone());
    check("metrics.listen", metrics(old) != metrics(new));
    let (o, n) = (&old.limits, &new.limits);
    check(
        "limits.header_read_timeout_seconds",
        o.header_read_timeout_seconds != n.header_read_timeout_seconds,
    );
    check(
        "limits.keep_alive_timeout_seconds",
        o.keep_alive_timeout_seconds != n.keep_alive_timeout_seconds,
    );
    check(
        "limits.buffer_budget_bytes",
        o.buffer_budget_bytes != n.buffer_budget_bytes,
    );
    check(
        "limits.max_connections",
        o.max_connections != n.max_connections,
    );
    check(
        "limits.max_connections_per_peer",
        o.max_connections_per_peer != n.max_connections_per_peer,
    );
    check(
        "limits.http2_max_concurrent_streams",
        o.http2_max_concurrent_streams != n.http2_max_concurrent_streams,
    );
    check(
        "limits.max_header_list_bytes",
        o.max_header_list_bytes != n.max_header_list_bytes,
    );
    check(
        "limits.http2_keep_alive_interval_seconds",
        o.http2_keep_alive_interval_seconds != n.http2_keep_alive_interval_seconds,
    );
    check(
        "limits.http2_keep_alive_timeout_seconds",
        o.http2_keep_alive_timeout_seconds != n.http2_keep_alive_timeout_seconds,
    );
    changed
}
