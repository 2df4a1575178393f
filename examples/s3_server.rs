//! A small S3-compatible server: buckets and objects in memory, behind the SigV4 layer in the S3
//! profile — every request's signature, signed headers, streaming chunk signatures, trailers
//! and checksums are verified by the crate before a handler sees a byte.
//!
//! ```sh
//! cargo run --release --example s3_server --features s3,axum -- --listen 127.0.0.1:9000
//! aws --endpoint-url http://127.0.0.1:9000 s3 mb s3://demo     # AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE …
//! aws --endpoint-url http://127.0.0.1:9000 s3 cp ./file s3://demo/file
//! ```
//!
//! Options: `--listen ADDR` (default `127.0.0.1:9000`), `--region REGION` (default
//! `us-east-1`), `--access-key-id ID` and `--secret-access-key SECRET` (default: the AWS
//! documentation's `AKIAIOSFODNN7EXAMPLE` / `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`),
//! `--tls-cert CERT.pem --tls-key KEY.pem` (HTTPS; clients then send the unsigned-trailer
//! streaming mode), `--log` (one line per request: method, path, `x-amz-content-sha256`).
//!
//! Operations (path-style addressing): `ListBuckets`, `CreateBucket`, `HeadBucket`,
//! `GetBucketLocation`, `DeleteBucket`, `PutObject`, `GetObject` (with `Range`), `HeadObject`,
//! `DeleteObject`, `ListObjectsV2` (prefix, delimiter, max-keys, continuation), and multipart
//! upload (`CreateMultipartUpload`, `UploadPart`, `CompleteMultipartUpload`,
//! `AbortMultipartUpload`). ETags are S3's: the MD5 of the object, or for a multipart upload the
//! MD5 of the parts' MD5s with `-N`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::Router;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use tower_sigv4::{Principal, StaticKeys, Verifier, VerifierConfig, VerifySigV4Layer};

const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

struct Object {
    data: Bytes,
    etag: String,
    modified: SystemTime,
    content_type: Option<HeaderValue>,
}

struct Upload {
    bucket: String,
    key: String,
    parts: BTreeMap<u32, (Bytes, [u8; 16])>,
    content_type: Option<HeaderValue>,
}

struct Bucket {
    created: SystemTime,
    objects: BTreeMap<String, Object>,
}

#[derive(Default)]
struct Store {
    buckets: BTreeMap<String, Bucket>,
    uploads: BTreeMap<String, Upload>,
    next_upload: u64,
}

type Shared = Arc<Mutex<Store>>;

/// The time objects are stamped with (the crate's clock: one place reads the system time).
fn now() -> SystemTime {
    use tower_sigv4::Clock as _;
    tower_sigv4::SystemClock::new().now()
}

fn lock(store: &Shared) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Answers.

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn xml(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Body::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}"
        )))
        .unwrap_or_default()
}

fn error(status: StatusCode, code: &str, message: &str, resource: &str) -> Response<Body> {
    xml(
        status,
        format!(
            "<Error><Code>{code}</Code><Message>{}</Message><Resource>{}</Resource><RequestId>0000000000000000</RequestId></Error>",
            escape(message),
            escape(resource)
        ),
    )
}

fn no_such_bucket(bucket: &str) -> Response<Body> {
    error(
        StatusCode::NOT_FOUND,
        "NoSuchBucket",
        "The specified bucket does not exist",
        bucket,
    )
}

fn no_such_key(key: &str) -> Response<Body> {
    error(
        StatusCode::NOT_FOUND,
        "NoSuchKey",
        "The specified key does not exist.",
        key,
    )
}

fn empty(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .unwrap_or_default()
}

/// `2026-11-30T12:00:00.000Z`.
fn iso(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `Mon, 30 Nov 2026 12:00:00 GMT`.
fn http_date(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    dt.format(&fmt).unwrap_or_default()
}

fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// The query's parameters, decoded.
fn query(req: &Request<Body>) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// Bucket and key of a path-style URI, decoded.
fn address(req: &Request<Body>) -> (String, String) {
    let path = req.uri().path().trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    (decode(bucket), decode(key))
}

/// The request body, whole (the layer has verified every byte of it by the time it ends; a
/// body that fails verification ends with an error and the layer answers for us).
async fn read_body(body: Body) -> Result<Bytes, Response<Body>> {
    let mut stream = body;
    let mut out = BytesMut::new();
    while let Some(frame) = stream.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    out.extend_from_slice(&data);
                }
            }
            Err(_) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "IncompleteBody",
                    "The request body could not be read",
                    "",
                ))
            }
        }
    }
    Ok(out.freeze())
}

async fn handle(store: Shared, req: Request<Body>) -> Response<Body> {
    let (bucket, key) = address(&req);
    let q = query(&req);
    let method = req.method().clone();
    match (method, bucket.is_empty(), key.is_empty()) {
        (Method::GET, true, _) => list_buckets(&store, &req),
        (Method::PUT, false, true) => create_bucket(&store, &bucket, req).await,
        (Method::HEAD, false, true) => match lock(&store).buckets.contains_key(&bucket) {
            true => empty(StatusCode::OK),
            false => empty(StatusCode::NOT_FOUND),
        },
        (Method::DELETE, false, true) => delete_bucket(&store, &bucket),
        (Method::GET, false, true) if q.contains_key("location") => {
            match lock(&store).buckets.contains_key(&bucket) {
                true => xml(
                    StatusCode::OK,
                    format!("<LocationConstraint xmlns=\"{XMLNS}\"></LocationConstraint>"),
                ),
                false => no_such_bucket(&bucket),
            }
        }
        (Method::GET, false, true) => list_objects(&store, &bucket, &q),
        (Method::PUT, false, false) if q.contains_key("uploadId") => {
            upload_part(&store, &q, req).await
        }
        (Method::PUT, false, false) => put_object(&store, &bucket, &key, req).await,
        (Method::GET | Method::HEAD, false, false) => get_object(&store, &bucket, &key, &req),
        (Method::DELETE, false, false) if q.contains_key("uploadId") => {
            let id = q.get("uploadId").cloned().unwrap_or_default();
            match lock(&store).uploads.remove(&id) {
                Some(_) => empty(StatusCode::NO_CONTENT),
                None => no_such_upload(&id),
            }
        }
        (Method::DELETE, false, false) => {
            let mut s = lock(&store);
            match s.buckets.get_mut(&bucket) {
                Some(b) => {
                    b.objects.remove(&key);
                    empty(StatusCode::NO_CONTENT)
                }
                None => no_such_bucket(&bucket),
            }
        }
        (Method::POST, false, false) if q.contains_key("uploads") => {
            create_upload(&store, &bucket, &key, &req)
        }
        (Method::POST, false, false) if q.contains_key("uploadId") => {
            complete_upload(&store, &bucket, &key, &q, req).await
        }
        _ => error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            req.uri().path(),
        ),
    }
}

fn list_buckets(store: &Shared, req: &Request<Body>) -> Response<Body> {
    let owner = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.arn().to_owned())
        .unwrap_or_default();
    let mut out = format!(
        "<ListAllMyBucketsResult xmlns=\"{XMLNS}\"><Owner><ID>{0}</ID><DisplayName>{0}</DisplayName></Owner><Buckets>",
        escape(&owner)
    );
    for (name, bucket) in &lock(store).buckets {
        let _ = write!(
            out,
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>",
            escape(name),
            iso(bucket.created)
        );
    }
    out.push_str("</Buckets></ListAllMyBucketsResult>");
    xml(StatusCode::OK, out)
}

async fn create_bucket(store: &Shared, bucket: &str, req: Request<Body>) -> Response<Body> {
    // The body (a `CreateBucketConfiguration` outside us-east-1) is read and ignored.
    if let Err(r) = read_body(req.into_body()).await {
        return r;
    }
    let mut s = lock(store);
    if s.buckets.contains_key(bucket) {
        return error(
            StatusCode::CONFLICT,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
            bucket,
        );
    }
    s.buckets.insert(
        bucket.to_owned(),
        Bucket {
            created: now(),
            objects: BTreeMap::new(),
        },
    );
    Response::builder()
        .header("location", format!("/{bucket}"))
        .body(Body::empty())
        .unwrap_or_default()
}

fn delete_bucket(store: &Shared, bucket: &str) -> Response<Body> {
    let mut s = lock(store);
    match s.buckets.get(bucket) {
        None => no_such_bucket(bucket),
        Some(b) if !b.objects.is_empty() => error(
            StatusCode::CONFLICT,
            "BucketNotEmpty",
            "The bucket you tried to delete is not empty",
            bucket,
        ),
        Some(_) => {
            s.buckets.remove(bucket);
            empty(StatusCode::NO_CONTENT)
        }
    }
}

async fn put_object(store: &Shared, bucket: &str, key: &str, req: Request<Body>) -> Response<Body> {
    if !lock(store).buckets.contains_key(bucket) {
        return no_such_bucket(bucket);
    }
    let content_type = req.headers().get("content-type").cloned();
    let data = match read_body(req.into_body()).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let etag = format!("\"{}\"", hex::encode(md5(&data)));
    let mut s = lock(store);
    let Some(b) = s.buckets.get_mut(bucket) else {
        return no_such_bucket(bucket);
    };
    b.objects.insert(
        key.to_owned(),
        Object {
            data,
            etag: etag.clone(),
            modified: now(),
            content_type,
        },
    );
    Response::builder()
        .header("etag", etag)
        .body(Body::empty())
        .unwrap_or_default()
}

/// A `Range: bytes=…` header against a length: `Ok(None)` for no (or an ignorable) range.
fn range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = headers.get("range").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let (first, last) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len.checked_sub(1).ok_or(())?)
        }
        (start, "") => (
            start.parse().map_err(|_| ())?,
            len.checked_sub(1).ok_or(())?,
        ),
        (start, end) => {
            let s: u64 = start.parse().map_err(|_| ())?;
            let e: u64 = end.parse().map_err(|_| ())?;
            if e < s {
                return Ok(None);
            }
            (s, e.min(len.saturating_sub(1)))
        }
    };
    if first >= len {
        return Err(());
    }
    Ok(Some((first, last)))
}

fn get_object(store: &Shared, bucket: &str, key: &str, req: &Request<Body>) -> Response<Body> {
    let s = lock(store);
    let Some(b) = s.buckets.get(bucket) else {
        return no_such_bucket(bucket);
    };
    let head = req.method() == Method::HEAD;
    let Some(object) = b.objects.get(key) else {
        return if head {
            empty(StatusCode::NOT_FOUND)
        } else {
            no_such_key(key)
        };
    };
    let len = object.data.len() as u64;
    let mut builder = Response::builder()
        .header("etag", &object.etag)
        .header("last-modified", http_date(object.modified))
        .header("accept-ranges", "bytes")
        .header(
            "content-type",
            object
                .content_type
                .clone()
                .unwrap_or(HeaderValue::from_static("binary/octet-stream")),
        );
    let (status, data) = match range(req.headers(), len) {
        Err(()) => {
            return error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range is not satisfiable",
                key,
            )
        }
        Ok(None) => (StatusCode::OK, object.data.clone()),
        Ok(Some((first, last))) => {
            builder = builder.header("content-range", format!("bytes {first}-{last}/{len}"));
            let slice = object
                .data
                .slice(usize::try_from(first).unwrap_or(0)..usize::try_from(last + 1).unwrap_or(0));
            (StatusCode::PARTIAL_CONTENT, slice)
        }
    };
    builder = builder.status(status).header("content-length", data.len());
    let body = if head {
        Body::empty()
    } else {
        Body::from(data)
    };
    builder.body(body).unwrap_or_default()
}

fn list_objects(store: &Shared, bucket: &str, q: &BTreeMap<String, String>) -> Response<Body> {
    let s = lock(store);
    let Some(b) = s.buckets.get(bucket) else {
        return no_such_bucket(bucket);
    };
    let prefix = q.get("prefix").cloned().unwrap_or_default();
    let delimiter = q.get("delimiter").cloned().filter(|d| !d.is_empty());
    let max_keys: usize = q
        .get("max-keys")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1000)
        .min(1000);
    let url = q.get("encoding-type").is_some_and(|e| e == "url");
    let encode = |s: &str| {
        if url {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        } else {
            s.to_owned()
        }
    };
    let start = q
        .get("continuation-token")
        .or_else(|| q.get("start-after"))
        .cloned()
        .unwrap_or_default();
    let mut contents = String::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut count = 0;
    let mut next = None;
    for (key, object) in b.objects.range(start.clone()..) {
        if key == &start || !key.starts_with(&prefix) {
            continue;
        }
        if count == max_keys {
            next = Some(key.clone());
            break;
        }
        if let Some(d) = &delimiter {
            if let Some(i) = key[prefix.len()..].find(d.as_str()) {
                let common = key[..prefix.len() + i + d.len()].to_owned();
                if prefixes.last() != Some(&common) {
                    prefixes.push(common);
                    count += 1;
                }
                continue;
            }
        }
        let _ = write!(
            contents,
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            escape(&encode(key)),
            iso(object.modified),
            escape(&object.etag),
            object.data.len()
        );
        count += 1;
    }
    let mut out = format!(
        "<ListBucketResult xmlns=\"{XMLNS}\"><Name>{}</Name><Prefix>{}</Prefix><KeyCount>{count}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
        escape(bucket),
        escape(&encode(&prefix))
    );
    if let Some(d) = &delimiter {
        let _ = write!(out, "<Delimiter>{}</Delimiter>", escape(&encode(d)));
    }
    if url {
        out.push_str("<EncodingType>url</EncodingType>");
    }
    let _ = write!(out, "<IsTruncated>{}</IsTruncated>", next.is_some());
    if let Some(token) = q.get("continuation-token") {
        let _ = write!(
            out,
            "<ContinuationToken>{}</ContinuationToken>",
            escape(token)
        );
    }
    if let Some(next) = &next {
        let _ = write!(
            out,
            "<NextContinuationToken>{}</NextContinuationToken>",
            escape(next)
        );
    }
    out.push_str(&contents);
    for p in prefixes {
        let _ = write!(
            out,
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            escape(&encode(&p))
        );
    }
    out.push_str("</ListBucketResult>");
    xml(StatusCode::OK, out)
}

fn no_such_upload(id: &str) -> Response<Body> {
    error(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        id,
    )
}

fn create_upload(store: &Shared, bucket: &str, key: &str, req: &Request<Body>) -> Response<Body> {
    let mut s = lock(store);
    if !s.buckets.contains_key(bucket) {
        return no_such_bucket(bucket);
    }
    s.next_upload += 1;
    let id = format!("upload-{:016x}", s.next_upload);
    s.uploads.insert(
        id.clone(),
        Upload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            parts: BTreeMap::new(),
            content_type: req.headers().get("content-type").cloned(),
        },
    );
    xml(
        StatusCode::OK,
        format!(
            "<InitiateMultipartUploadResult xmlns=\"{XMLNS}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>",
            escape(bucket),
            escape(key)
        ),
    )
}

async fn upload_part(
    store: &Shared,
    q: &BTreeMap<String, String>,
    req: Request<Body>,
) -> Response<Body> {
    let id = q.get("uploadId").cloned().unwrap_or_default();
    let Some(number) = q
        .get("partNumber")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=10_000).contains(n))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            "",
        );
    };
    if !lock(store).uploads.contains_key(&id) {
        return no_such_upload(&id);
    }
    let data = match read_body(req.into_body()).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let digest = md5(&data);
    let mut s = lock(store);
    let Some(upload) = s.uploads.get_mut(&id) else {
        return no_such_upload(&id);
    };
    upload.parts.insert(number, (data, digest));
    Response::builder()
        .header("etag", format!("\"{}\"", hex::encode(digest)))
        .body(Body::empty())
        .unwrap_or_default()
}

/// The `(PartNumber, ETag)` pairs of a `CompleteMultipartUpload` document.
fn parts_of(document: &str) -> Option<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for part in document.split("<Part>").skip(1) {
        let part = part.split("</Part>").next()?;
        let field = |name: &str| {
            let open = format!("<{name}>");
            let start = part.find(&open)? + open.len();
            let end = part[start..].find(&format!("</{name}>"))? + start;
            Some(part[start..end].trim().to_owned())
        };
        let number = field("PartNumber")?.parse().ok()?;
        let etag = field("ETag")?.replace("&quot;", "\"");
        out.push((number, etag));
    }
    Some(out)
}

async fn complete_upload(
    store: &Shared,
    bucket: &str,
    key: &str,
    q: &BTreeMap<String, String>,
    req: Request<Body>,
) -> Response<Body> {
    let id = q.get("uploadId").cloned().unwrap_or_default();
    let document = match read_body(req.into_body()).await {
        Ok(d) => String::from_utf8_lossy(&d).into_owned(),
        Err(r) => return r,
    };
    let invalid_part = || {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidPart",
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
            key,
        )
    };
    let Some(listed) = parts_of(&document).filter(|p| !p.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            key,
        );
    };
    let mut s = lock(store);
    let Some(upload) = s.uploads.get(&id) else {
        return no_such_upload(&id);
    };
    if upload.bucket != bucket || upload.key != key {
        return no_such_upload(&id);
    }
    let mut data = BytesMut::new();
    let mut digests = Vec::new();
    let mut previous = 0;
    for (number, etag) in &listed {
        if *number <= previous {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
                key,
            );
        }
        previous = *number;
        let Some((bytes, digest)) = upload.parts.get(number) else {
            return invalid_part();
        };
        if etag.trim_matches('"') != hex::encode(digest) {
            return invalid_part();
        }
        data.extend_from_slice(bytes);
        digests.extend_from_slice(digest);
    }
    let etag = format!("\"{}-{}\"", hex::encode(md5(&digests)), listed.len());
    let content_type = upload.content_type.clone();
    s.uploads.remove(&id);
    let Some(b) = s.buckets.get_mut(bucket) else {
        return no_such_bucket(bucket);
    };
    b.objects.insert(
        key.to_owned(),
        Object {
            data: data.freeze(),
            etag: etag.clone(),
            modified: now(),
            content_type,
        },
    );
    xml(
        StatusCode::OK,
        format!(
            "<CompleteMultipartUploadResult xmlns=\"{XMLNS}\"><Location>/{0}/{1}</Location><Bucket>{0}</Bucket><Key>{1}</Key><ETag>{2}</ETag></CompleteMultipartUploadResult>",
            escape(bucket),
            escape(key),
            escape(&etag)
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Command line and serving.

struct Args {
    listen: SocketAddr,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    tls: Option<(String, String)>,
    /// Print one line per request: method, path and payload mode.
    log: bool,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
        region: "us-east-1".to_owned(),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        tls: None,
        log: false,
    };
    let mut cert = None;
    let mut key = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => args.listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--region" => args.region = value()?,
            "--access-key-id" => args.access_key_id = value()?,
            "--secret-access-key" => args.secret_access_key = value()?,
            "--tls-cert" => cert = Some(value()?),
            "--tls-key" => key = Some(value()?),
            "--log" => args.log = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    args.tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".to_owned()),
    };
    Ok(args)
}

fn tls_acceptor(
    cert: &str,
    key: &str,
) -> Result<tokio_rustls::TlsAcceptor, Box<dyn std::error::Error>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args().inspect_err(|_| {
        eprintln!("usage: s3_server [--listen ADDR] [--region REGION] [--access-key-id ID --secret-access-key SECRET] [--tls-cert CERT.pem --tls-key KEY.pem] [--log]");
    })?;
    let keys = StaticKeys::new().with_key(
        args.access_key_id.clone(),
        args.secret_access_key.clone(),
        Principal::user("arn:aws:iam::123456789012:user/s3", "AIDAS3EXAMPLE"),
    );
    // The service `s3` selects the S3 profile.
    let verifier = Verifier::new(VerifierConfig::new(args.region.clone(), "s3"), keys)?;
    let store = Shared::default();
    let log = args.log;
    let app = Router::new()
        .fallback(move |req: Request<Body>| {
            if log {
                let mode = req
                    .headers()
                    .get("x-amz-content-sha256")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                println!("{} {} {mode}", req.method(), req.uri().path());
            }
            handle(store.clone(), req)
        })
        .layer(VerifySigV4Layer::new(verifier));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    match &args.tls {
        None => {
            println!("s3_server listening on http://{local}");
            axum::serve(listener, app).await?;
        }
        Some((cert, key)) => {
            let acceptor = tls_acceptor(cert, key)?;
            println!("s3_server listening on https://{local}");
            loop {
                let (tcp, _) = listener.accept().await?;
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        }
    }
    Ok(())
}
