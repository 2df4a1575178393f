//! The deadlines of a connection: the request head, the idle keep-alive, the body.

use super::*;

const LIMITS: &str = "header_read_timeout_seconds = 1
keep_alive_timeout_seconds = 2
body_idle_timeout_seconds = 1
body_total_timeout_seconds = 3";

#[test]
fn half_a_request_head_is_cut_off() {
    let gw = Gateway::start(&Cfg::new().limits(LIMITS).render());
    let mut stream = connect(gw.addr);
    stream
        .write_all(format!("GET /hello HTTP/1.1\r\nHost: {}\r\n", gw.authority()).as_bytes())
        .unwrap();
    let closed = closed_after(&mut stream, Duration::from_secs(5)).expect("still open after 5 s");
    assert!(
        closed >= Duration::from_millis(900) && closed <= Duration::from_millis(2500),
        "closed after {closed:?}"
    );
    // A connection that sends nothing at all is held no longer.
    let mut silent = connect(gw.addr);
    let closed = closed_after(&mut silent, Duration::from_secs(5)).expect("still open after 5 s");
    assert!(
        closed <= Duration::from_millis(2500),
        "closed after {closed:?}"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_its_timeout() {
    let gw = Gateway::start(&Cfg::new().limits(LIMITS).render());
    let stream = connect(gw.addr);
    let raw = head(&gw, "GET", "/hello", Some(Signing::new(&alice())), b"", &[]);
    let mut wire = Wire::new(stream);
    wire.stream.write_all(raw.as_bytes()).unwrap();
    let reply = read_reply(&mut wire).unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("connection"), None, "{reply:?}");
    let mut stream = wire.stream;
    // Not before 1.5 s ...
    assert_eq!(closed_after(&mut stream, Duration::from_millis(1500)), None);
    // ... but by 3.5 s (1.5 s spent already).
    assert!(
        closed_after(&mut stream, Duration::from_secs(2)).is_some(),
        "still open 3.5 s after the response"
    );
}

/// A signed POST declaring 100 bytes that sends 10, then stalls: the reply, how long it took
/// and the connection.
fn stalled_body(gw: &Gateway, cover: Cover<'_>) -> (Reply, Duration, TcpStream) {
    let raw = head(
        gw,
        "POST",
        "/items",
        Some(Signing::new(&alice()).cover(cover)),
        &[b'x'; 100],
        &[("content-length", "100")],
    );
    let mut stream = connect(gw.addr);
    stream.write_all(raw.as_bytes()).unwrap();
    stream.write_all(&[b'x'; 10]).unwrap();
    let started = Instant::now();
    let mut wire = Wire::new(stream);
    let reply = read_reply(&mut wire).unwrap();
    (reply, started.elapsed(), wire.stream)
}

#[test]
fn a_stalled_body_is_a_408_and_the_connection_closed() {
    let up = Upstream::start();
    let gw = Gateway::start_with(
        &Cfg::new().limits(LIMITS).render(),
        &["--upstream", &up.url()],
    );
    // Buffered (the signature covers the body's hash) and streamed (UNSIGNED-PAYLOAD).
    for cover in [Cover::Hash, Cover::Unsigned] {
        let (reply, after, mut stream) = stalled_body(&gw, cover);
        reply.assert_rejection(408, "RequestTimeoutException", REQUEST_TIMEOUT);
        assert_eq!(reply.header("connection"), Some("close"), "{reply:?}");
        assert!(
            after >= Duration::from_millis(900) && after <= Duration::from_millis(2500),
            "answered after {after:?}"
        );
        assert!(closed_after(&mut stream, Duration::from_secs(1)).is_some());
    }
    assert!(up.settled().iter().all(|s| !s.complete));
}

#[test]
fn a_trickling_body_meets_the_total_deadline() {
    let gw = Gateway::start(&Cfg::new().limits(LIMITS).render());
    let raw = head(
        &gw,
        "POST",
        "/items",
        Some(Signing::new(&alice())),
        &[b'x'; 100],
        &[("content-length", "100")],
    );
    let mut stream = connect(gw.addr);
    stream.write_all(raw.as_bytes()).unwrap();
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    // One byte every 400 ms: never idle for a second, never done in three.
    std::thread::spawn(move || {
        for _ in 0..100 {
            if writer.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(400));
        }
    });
    let reply = read_reply(&mut Wire::new(stream)).unwrap();
    let after = started.elapsed();
    reply.assert_rejection(408, "RequestTimeoutException", REQUEST_TIMEOUT);
    assert!(
        after >= Duration::from_millis(2800) && after <= Duration::from_millis(4500),
        "answered after {after:?}"
    );
}

#[test]
fn a_head_trickling_in_byte_by_byte_gets_no_more_time() {
    let gw = Gateway::start(&Cfg::new().limits(LIMITS).render());
    let mut stream = connect(gw.addr);
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    // Slowloris: a byte of the head every 200 ms, never its end.
    std::thread::spawn(move || {
        for byte in
            b"GET /hello HTTP/1.1\r\nHost: example\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    closed_after(&mut stream, Duration::from_secs(5)).expect("still open after 5 s");
    let closed = started.elapsed();
    assert!(
        closed >= Duration::from_millis(900) && closed <= Duration::from_millis(2500),
        "closed after {closed:?}"
    );
}
