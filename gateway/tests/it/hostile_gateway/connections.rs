//! Connection caps: one peer cannot take every connection, the global cap queues rather than
//! refuses, and idle connections to the metrics listener cost no CPU.

use super::*;

/// The soft limit on open files of this process.
fn open_file_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// `n` connections from 127.0.0.1, each holding half a request head.
fn slow_headers(gw: &Gateway, addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = connect(addr);
            let _ = s.write_all(
                format!("GET /hello HTTP/1.1\r\nHost: {}\r\n", gw.authority()).as_bytes(),
            );
            s
        })
        .collect()
}

/// How many of `streams` the peer closes within `within` (each given its share of it).
fn count_closed(streams: &mut [TcpStream], within: Duration) -> usize {
    let each = within / u32::try_from(streams.len()).unwrap();
    streams
        .iter_mut()
        .map(|s| closed_after(s, each.max(Duration::from_millis(5))))
        .filter(Option::is_some)
        .count()
}

/// A signed GET /hello from 127.0.0.2; the reply and how long it took.
fn legitimate_from_elsewhere(gw: &Gateway) -> (Reply, Duration) {
    let started = Instant::now();
    let mut stream = connect_from("127.0.0.2", gw.addr);
    let raw = head(gw, "GET", "/hello", Some(Signing::new(&alice())), b"", &[]);
    stream.write_all(raw.as_bytes()).unwrap();
    let reply = read_reply(&mut Wire::new(stream)).unwrap();
    (reply, started.elapsed())
}

#[test]
fn one_peer_gets_its_cap_and_another_is_still_served() {
    let gw = Gateway::start(&Cfg::new().limits("max_connections_per_peer = 20").render());
    let mut held = slow_headers(&gw, gw.addr, 30);
    // The first 20 are held; the 10 beyond the cap are closed at once.
    let closed: Vec<bool> = held
        .iter_mut()
        .map(|s| closed_after(s, Duration::from_millis(300)).is_some())
        .collect();
    assert_eq!(
        closed.iter().filter(|c| **c).count(),
        10,
        "closed: {closed:?}"
    );
    assert!(closed[..20].iter().all(|c| !c), "closed: {closed:?}");
    let (reply, took) = legitimate_from_elsewhere(&gw);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    drop(held);
}

#[test]
fn three_hundred_slow_headers_do_not_lock_out_another_peer() {
    let limit = open_file_limit();
    assert!(
        limit >= 1024,
        "this test needs about 400 descriptors; the soft limit is {limit}"
    );
    let gw = Gateway::start(&Cfg::new().render());
    let mut held = slow_headers(&gw, gw.addr, 300);
    let (reply, took) = legitimate_from_elsewhere(&gw);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The default per-peer cap (256) closed the rest.
    let closed = count_closed(&mut held, Duration::from_secs(3));
    assert_eq!(closed, 300 - 256);
}

#[test]
fn the_global_cap_makes_the_next_connection_wait() {
    let gw = Gateway::start(&Cfg::new().limits("max_connections = 5").render());
    let mut held = slow_headers(&gw, gw.addr, 5);
    let mut sixth = connect(gw.addr);
    let raw = head(&gw, "GET", "/hello", Some(Signing::new(&alice())), b"", &[]);
    sixth.write_all(raw.as_bytes()).unwrap();
    // Not accepted: neither an answer nor a close.
    sixth
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    match read_some(&mut sixth, &mut [0u8; 1024]) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the sixth connection was served at once: {other:?}"),
    }
    assert_eq!(count_closed(&mut held, Duration::from_millis(250)), 0);
    drop(held.pop());
    sixth
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let reply = read_reply(&mut Wire::new(sixth)).expect("no answer 2 s after a slot freed");
    assert_eq!(reply.status, 200, "{reply:?}");
}

/// User plus system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command may hold spaces: the fields count from the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn idle_connections_to_the_metrics_listener_cost_no_cpu() {
    let gw = Gateway::start(
        &Cfg::new()
            .tail("[metrics]\nlisten = \"127.0.0.1:0\"")
            .render(),
    );
    let metrics = gw.metrics.unwrap();
    assert_eq!(alice_get(&gw, "/hello").status, 200);
    let held: Vec<TcpStream> = (0..100).map(|_| connect(metrics)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(gw.child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(gw.child.id()) - before;
    // Clock ticks are 1/100 s on Linux: 0.5 s is 50.
    assert!(
        used < 50,
        "{used} ticks of CPU in 2 s with 100 idle connections"
    );
    // The metrics still answer, from another address.
    let mut stream = connect_from("127.0.0.2", metrics);
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n")
        .unwrap();
    let reply = read_reply(&mut Wire::new(stream)).unwrap();
    assert_eq!(reply.status, 200);
    let line = r#"sigv4_gateway_requests_total{route="api",decision="allow",rejection=""} 1"#;
    assert!(reply.text().lines().any(|l| l == line), "{}", reply.text());
    drop(held);
}
