//! Interoperability check of the service against `parsec-interface`, the reference
//! implementation of the Parsec wire format and of its protobuf bodies.
//!
//! Every request is built and serialised by the crate and every reply is parsed by the crate
//! (header with `Response::read_from_stream`, body with `ProtobufConverter::body_to_result`),
//! so any byte the service gets wrong in a header, a status or a protobuf body shows up here as
//! a parse error or a wrong value.
//!
//! Environment:
//! * `PARSEC_SERVICE_ENDPOINT`: `unix:/path/to/socket` (required).
//! * `PARSEC_INTEROP_CORE_VERSION`: if set (`maj.min.rev`), the version the core provider must
//!   report in ListProviders.
//!
//! The service must run the Direct authenticator with `interop-admin` as an admin and the
//! Mbed Crypto provider. Prints one line per check and `N passed, N failed` last; exits 1 if
//! anything failed.

use parsec_interface::operations::psa_algorithm::{AsymmetricSignature, Hash, SignHash};
use parsec_interface::operations::psa_key_attributes::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use parsec_interface::operations::{
    list_authenticators, list_clients, list_opcodes, list_providers, ping, psa_destroy_key,
    psa_export_public_key, psa_generate_key, psa_generate_random, psa_hash_compute, psa_sign_hash,
    psa_verify_hash, Convert, NativeOperation, NativeResult,
};
use parsec_interface::operations_protobuf::ProtobufConverter;
use parsec_interface::requests::request::{RequestAuth, RequestHeader};
use parsec_interface::requests::{
    AuthType, BodyType, Opcode, ProviderId, Request, Response, ResponseStatus,
};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Per-call socket timeout: a service that never answers fails the check instead of hanging.
const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest reply body accepted; every reply expected here is far smaller.
const REPLY_BODY_LIMIT: usize = 1 << 20;

/// Header offset of the 4-byte little-endian opcode (wire-protocol header, version 1.0).
const HEADER_OPCODE_OFFSET: usize = 28;
/// 0x0016 (PsaMacCompute in the book) has no opcode in the crate: the service must answer 9.
const UNDEFINED_OPCODE: u32 = 0x16;

const ADMIN_APP: &str = "interop-admin";
const USER_APP: &str = "interop-app";
const KEY_NAME: &str = "interop-key";

const MBED_UUID: &str = "1c1139dc-ad7c-47dc-ad6b-db6fdb466552";
const MBED_DESCRIPTION: &str = "User space software provider, based on Mbed Crypto - the reference implementation of the PSA crypto API";
const MBED_VENDOR: &str = "Arm";
const CORE_UUID: &str = "47049873-2a43-4845-9d72-831eab668784";
const CORE_DESCRIPTION: &str =
    "Software provider that implements only administrative (i.e. no cryptographic) operations";
const DIRECT_DESCRIPTION: &str = "Directly parses the authentication field as a UTF-8 string and uses that as the application identity. Should be used for testing only.";

/// FIPS 180-2 example: SHA-256("abc").
const SHA256_ABC: [u8; 32] = [
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
];

type Check = Result<(), String>;

/// Authentication to put in a request.
#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Direct(&'a str),
}

/// A reply as the crate parsed it, with the raw bytes kept for diagnostics.
struct Reply {
    response: Response,
    raw: Vec<u8>,
}

/// Reader that keeps a copy of everything the crate consumed.
struct Recorder<'a> {
    inner: &'a mut UnixStream,
    seen: Vec<u8>,
}

impl Read for Recorder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{:02x}", b))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Client {
    socket: PathBuf,
    converter: ProtobufConverter,
}

impl Client {
    fn from_env() -> Result<Client, String> {
        let endpoint = std::env::var("PARSEC_SERVICE_ENDPOINT")
            .map_err(|_| "PARSEC_SERVICE_ENDPOINT is not set".to_string())?;
        let rest = endpoint
            .strip_prefix("unix:")
            .ok_or_else(|| format!("endpoint {:?} is not a unix: URI", endpoint))?;
        // unix:///path has an empty authority; unix:/path has none.
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if !path.starts_with('/') {
            return Err(format!("endpoint {:?} has no absolute path", endpoint));
        }
        Ok(Client {
            socket: PathBuf::from(path),
            converter: ProtobufConverter {},
        })
    }

    /// Sends `bytes` on a fresh connection (one request per connection) and parses the reply
    /// with the crate. The service must close the connection right after its reply.
    fn exchange(&self, bytes: &[u8]) -> Result<Reply, String> {
        let mut stream = UnixStream::connect(&self.socket)
            .map_err(|e| format!("connect {}: {}", self.socket.display(), e))?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|_| stream.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| format!("set timeout: {}", e))?;
        stream
            .write_all(bytes)
            .map_err(|e| format!("write request: {}", e))?;
        let mut rec = Recorder {
            inner: &mut stream,
            seen: Vec::new(),
        };
        let parsed = Response::read_from_stream(&mut rec, REPLY_BODY_LIMIT);
        let raw = rec.seen;
        let response = parsed.map_err(|status| {
            format!(
                "crate could not parse the reply ({:?}); bytes read: [{}]",
                status,
                hex(&raw)
            )
        })?;
        let mut extra = [0u8; 16];
        match stream.read(&mut extra) {
            Ok(0) => {}
            Ok(n) => {
                return Err(format!(
                    "bytes after the reply: [{}] (reply was [{}])",
                    hex(&extra[..n]),
                    hex(&raw)
                ))
            }
            Err(e) => return Err(format!("connection not closed after the reply: {}", e)),
        }
        Ok(Reply { response, raw })
    }

    /// Serialises `op` with the crate's converter and `Request::write_to_stream`.
    fn encode(
        &self,
        provider: ProviderId,
        session: u64,
        auth: Auth,
        op: NativeOperation,
    ) -> Result<Vec<u8>, String> {
        let opcode = op.opcode();
        let body = self
            .converter
            .operation_to_body(op)
            .map_err(|s| format!("crate cannot encode {:?}: {:?}", opcode, s))?;
        let (auth_type, auth_bytes) = match auth {
            Auth::None => (AuthType::NoAuth, Vec::new()),
            Auth::Direct(name) => (AuthType::Direct, name.as_bytes().to_vec()),
        };
        let request = Request {
            header: RequestHeader {
                provider,
                session,
                content_type: BodyType::Protobuf,
                accept_type: BodyType::Protobuf,
                auth_type,
                opcode,
            },
            body,
            auth: RequestAuth::new(auth_bytes),
        };
        let mut bytes = Vec::new();
        request
            .write_to_stream(&mut bytes)
            .map_err(|s| format!("crate cannot write the request: {:?}", s))?;
        Ok(bytes)
    }

    /// Sends `op` and checks the reply echoes provider, session and opcode; returns the reply
    /// whatever its status.
    fn send_with_session(
        &self,
        provider: ProviderId,
        session: u64,
        auth: Auth,
        op: NativeOperation,
    ) -> Result<Reply, String> {
        let opcode = op.opcode();
        let bytes = self.encode(provider, session, auth, op)?;
        let reply = self.exchange(&bytes)?;
        let h = &reply.response.header;
        if h.provider != provider || h.session != session || h.opcode != opcode {
            return Err(format!(
                "reply header does not echo the request (provider {:?}, session {:#x}, opcode \
                 {:?}; status {:?}); bytes: [{}]",
                h.provider,
                h.session,
                h.opcode,
                h.status,
                hex(&reply.raw)
            ));
        }
        if h.content_type != BodyType::Protobuf {
            return Err(format!("reply content type {:?}", h.content_type));
        }
        Ok(reply)
    }

    /// Sends `op`, requires status Success and decodes the body with the crate.
    fn call(
        &self,
        provider: ProviderId,
        auth: Auth,
        op: NativeOperation,
    ) -> Result<NativeResult, String> {
        let opcode = op.opcode();
        let reply = self.send_with_session(provider, 0, auth, op)?;
        let status = reply.response.header.status;
        if status != ResponseStatus::Success {
            return Err(format!(
                "{:?} failed with status {:?} ({}); bytes: [{}]",
                opcode,
                status,
                status as u16,
                hex(&reply.raw)
            ));
        }
        let raw = reply.raw;
        self.converter
            .body_to_result(reply.response.body, opcode)
            .map_err(|s| {
                format!(
                    "crate cannot decode the {:?} result body ({:?}); bytes: [{}]",
                    opcode,
                    s,
                    hex(&raw)
                )
            })
    }

    /// Sends `op` and requires a reply with exactly `expected` status and an empty body.
    fn expect_status(
        &self,
        provider: ProviderId,
        auth: Auth,
        op: NativeOperation,
        expected: ResponseStatus,
    ) -> Check {
        let reply = self.send_with_session(provider, 0, auth, op)?;
        check_error_reply(&reply, expected)
    }
}

fn check_error_reply(reply: &Reply, expected: ResponseStatus) -> Check {
    let status = reply.response.header.status;
    if status != expected {
        return Err(format!(
            "status {:?} ({}), expected {:?} ({}); bytes: [{}]",
            status,
            status as u16,
            expected,
            expected as u16,
            hex(&reply.raw)
        ));
    }
    if !reply.response.body.is_empty() {
        return Err(format!("error reply has a body: [{}]", hex(&reply.raw)));
    }
    Ok(())
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Check {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn unexpected(result: NativeResult) -> String {
    format!(
        "crate decoded an unexpected result kind: {:?}",
        result.opcode()
    )
}

fn check_ping(c: &Client) -> Check {
    match c.call(
        ProviderId::Core,
        Auth::None,
        NativeOperation::Ping(ping::Operation {}),
    )? {
        NativeResult::Ping(r) => ensure(
            r.wire_protocol_version_maj == 1 && r.wire_protocol_version_min == 0,
            || {
                format!(
                    "Ping reported {}.{}",
                    r.wire_protocol_version_maj, r.wire_protocol_version_min
                )
            },
        ),
        other => Err(unexpected(other)),
    }
}

/// Clients must get back the session handle they sent.
fn check_session_echo(c: &Client) -> Check {
    let session = 0x1122_3344_5566_7788;
    let reply = c.send_with_session(
        ProviderId::Core,
        session,
        Auth::None,
        NativeOperation::Ping(ping::Operation {}),
    )?;
    ensure(
        reply.response.header.status == ResponseStatus::Success,
        || format!("status {:?}", reply.response.header.status),
    )
}

fn version_string(maj: u32, min: u32, rev: u32) -> String {
    format!("{}.{}.{}", maj, min, rev)
}

fn check_provider(
    p: &list_providers::ProviderInfo,
    id: ProviderId,
    uuid: &str,
    description: &str,
    vendor: &str,
    version: Option<&str>,
) -> Check {
    ensure(p.id == id, || format!("id {:?}, expected {:?}", p.id, id))?;
    ensure(p.uuid.to_string() == uuid, || {
        format!("{:?}: uuid {}, expected {}", id, p.uuid, uuid)
    })?;
    ensure(p.description == description, || {
        format!("{:?}: description {:?}", id, p.description)
    })?;
    ensure(p.vendor == vendor, || {
        format!("{:?}: vendor {:?}", id, p.vendor)
    })?;
    let got = version_string(p.version_maj, p.version_min, p.version_rev);
    match version {
        Some(v) => ensure(got == v, || {
            format!("{:?}: version {}, expected {}", id, got, v)
        }),
        None => Ok(()),
    }
}

fn check_list_providers(c: &Client) -> Check {
    let providers = match c.call(
        ProviderId::Core,
        Auth::None,
        NativeOperation::ListProviders(list_providers::Operation {}),
    )? {
        NativeResult::ListProviders(r) => r.providers,
        other => return Err(unexpected(other)),
    };
    ensure(providers.len() == 2, || {
        format!(
            "{} providers, expected Mbed Crypto then core: {:?}",
            providers.len(),
            providers
        )
    })?;
    check_provider(
        &providers[0],
        ProviderId::MbedCrypto,
        MBED_UUID,
        MBED_DESCRIPTION,
        MBED_VENDOR,
        Some("0.1.0"),
    )?;
    let core_version = std::env::var("PARSEC_INTEROP_CORE_VERSION")
        .ok()
        .filter(|v| !v.is_empty());
    check_provider(
        &providers[1],
        ProviderId::Core,
        CORE_UUID,
        CORE_DESCRIPTION,
        "",
        core_version.as_deref(),
    )
}

fn list_opcodes(c: &Client, provider: ProviderId) -> Result<HashSet<Opcode>, String> {
    // The crate rejects the whole body if any value is not one of its Opcode variants.
    match c.call(
        ProviderId::Core,
        Auth::None,
        NativeOperation::ListOpcodes(list_opcodes::Operation {
            provider_id: provider,
        }),
    )? {
        NativeResult::ListOpcodes(r) => Ok(r.opcodes),
        other => Err(unexpected(other)),
    }
}

fn check_list_opcodes_core(c: &Client) -> Check {
    let got = list_opcodes(c, ProviderId::Core)?;
    let want: HashSet<Opcode> = [
        Opcode::Ping,
        Opcode::ListProviders,
        Opcode::ListOpcodes,
        Opcode::ListAuthenticators,
        Opcode::ListKeys,
    ]
    .iter()
    .copied()
    .collect();
    ensure(got == want, || {
        format!("core opcodes {:?}, expected {:?}", got, want)
    })
}

/// The Mbed Crypto provider advertises at least the 16 opcodes of the original service and
/// no core opcode. Opcodes beyond that set are reported, not failed.
fn check_list_opcodes_mbed(c: &Client) -> Check {
    let got = list_opcodes(c, ProviderId::MbedCrypto)?;
    let want: HashSet<Opcode> = [
        Opcode::PsaGenerateKey,
        Opcode::PsaDestroyKey,
        Opcode::PsaSignHash,
        Opcode::PsaVerifyHash,
        Opcode::PsaImportKey,
        Opcode::PsaExportKey,
        Opcode::PsaExportPublicKey,
        Opcode::PsaAsymmetricDecrypt,
        Opcode::PsaAsymmetricEncrypt,
        Opcode::PsaAeadEncrypt,
        Opcode::PsaAeadDecrypt,
        Opcode::PsaHashCompare,
        Opcode::PsaHashCompute,
        Opcode::PsaRawKeyAgreement,
        Opcode::PsaGenerateRandom,
        Opcode::CanDoCrypto,
    ]
    .iter()
    .copied()
    .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    ensure(missing.is_empty(), || {
        format!("Mbed Crypto opcodes {:?} lack {:?}", got, missing)
    })?;
    let core: Vec<_> = got.iter().filter(|o| o.is_core()).collect();
    ensure(core.is_empty(), || {
        format!("Mbed Crypto advertises core opcodes {:?}", core)
    })?;
    let mut extra: Vec<u32> = got.difference(&want).map(|&o| o as u32).collect();
    if !extra.is_empty() {
        extra.sort_unstable();
        let list: Vec<String> = extra.iter().map(|o| format!("{:#06x}", o)).collect();
        println!(
            "note: Mbed Crypto advertises opcodes beyond the original set: {}",
            list.join(" ")
        );
    }
    Ok(())
}

fn check_list_authenticators(c: &Client) -> Check {
    let auths = match c.call(
        ProviderId::Core,
        Auth::None,
        NativeOperation::ListAuthenticators(list_authenticators::Operation {}),
    )? {
        NativeResult::ListAuthenticators(r) => r.authenticators,
        other => return Err(unexpected(other)),
    };
    ensure(auths.len() == 1, || format!("authenticators {:?}", auths))?;
    let a = &auths[0];
    ensure(a.id == AuthType::Direct, || {
        format!("authenticator id {:?}", a.id)
    })?;
    ensure(a.description == DIRECT_DESCRIPTION, || {
        format!("description {:?}", a.description)
    })?;
    let v = version_string(a.version_maj, a.version_min, a.version_rev);
    ensure(v == "0.1.0", || format!("authenticator version {}", v))
}

/// An opcode the crate does not define: the service answers with the generic error header
/// (opcode Ping, provider 0), which the crate must still parse.
fn check_undefined_opcode(c: &Client) -> Check {
    let mut bytes = c.encode(
        ProviderId::Core,
        0,
        Auth::None,
        NativeOperation::Ping(ping::Operation {}),
    )?;
    bytes[HEADER_OPCODE_OFFSET..HEADER_OPCODE_OFFSET + 4]
        .copy_from_slice(&UNDEFINED_OPCODE.to_le_bytes());
    let reply = c.exchange(&bytes)?;
    check_error_reply(&reply, ResponseStatus::OpcodeDoesNotExist)?;
    let h = &reply.response.header;
    ensure(
        h.opcode == Opcode::Ping && h.provider == ProviderId::Core && h.session == 0,
        || {
            format!(
                "generic error header expected; bytes: [{}]",
                hex(&reply.raw)
            )
        },
    )
}

fn check_list_clients_not_admin(c: &Client) -> Check {
    c.expect_status(
        ProviderId::Core,
        Auth::Direct(USER_APP),
        NativeOperation::ListClients(list_clients::Operation {}),
        ResponseStatus::AdminOperation,
    )
}

fn check_list_clients_unauthenticated(c: &Client) -> Check {
    c.expect_status(
        ProviderId::Core,
        Auth::None,
        NativeOperation::ListClients(list_clients::Operation {}),
        ResponseStatus::NotAuthenticated,
    )
}

fn check_generate_random(c: &Client) -> Check {
    match c.call(
        ProviderId::MbedCrypto,
        Auth::None,
        NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size: 32 }),
    )? {
        NativeResult::PsaGenerateRandom(r) => {
            ensure(r.random_bytes.len() == 32, || {
                format!("{} random bytes", r.random_bytes.len())
            })?;
            ensure(r.random_bytes.iter().any(|&b| b != 0), || {
                "32 zero bytes".to_string()
            })
        }
        other => Err(unexpected(other)),
    }
}

fn check_hash_compute(c: &Client) -> Check {
    match c.call(
        ProviderId::MbedCrypto,
        Auth::None,
        NativeOperation::PsaHashCompute(psa_hash_compute::Operation {
            alg: Hash::Sha256,
            input: b"abc".to_vec().into(),
        }),
    )? {
        NativeResult::PsaHashCompute(r) => ensure(r.hash[..] == SHA256_ABC[..], || {
            format!("SHA-256(\"abc\") = [{}]", hex(&r.hash))
        }),
        other => Err(unexpected(other)),
    }
}

fn ecdsa_sha256() -> AsymmetricSignature {
    AsymmetricSignature::Ecdsa {
        hash_alg: SignHash::Specific(Hash::Sha256),
    }
}

fn check_generate_key(c: &Client) -> Check {
    let mut usage = UsageFlags::default();
    let _ = usage.set_sign_hash().set_verify_hash();
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: ecdsa_sha256().into(),
        },
    };
    match c.call(
        ProviderId::MbedCrypto,
        Auth::Direct(USER_APP),
        NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
            key_name: KEY_NAME.to_string(),
            attributes,
        }),
    )? {
        NativeResult::PsaGenerateKey(_) => Ok(()),
        other => Err(unexpected(other)),
    }
}

/// The key belongs to USER_APP only: the admin sees its owner, another application does not
/// see the key.
fn check_key_isolation(c: &Client) -> Check {
    let clients = match c.call(
        ProviderId::Core,
        Auth::Direct(ADMIN_APP),
        NativeOperation::ListClients(list_clients::Operation {}),
    )? {
        NativeResult::ListClients(r) => r.clients,
        other => return Err(unexpected(other)),
    };
    ensure(clients == vec![USER_APP.to_string()], || {
        format!("ListClients as admin: {:?}", clients)
    })?;
    c.expect_status(
        ProviderId::MbedCrypto,
        Auth::Direct(ADMIN_APP),
        NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
            key_name: KEY_NAME.to_string(),
        }),
        ResponseStatus::PsaErrorDoesNotExist,
    )
}

fn sign(c: &Client, digest: &[u8]) -> Result<Vec<u8>, String> {
    match c.call(
        ProviderId::MbedCrypto,
        Auth::Direct(USER_APP),
        NativeOperation::PsaSignHash(psa_sign_hash::Operation {
            key_name: KEY_NAME.to_string(),
            alg: ecdsa_sha256(),
            hash: digest.to_vec().into(),
        }),
    )? {
        NativeResult::PsaSignHash(r) => Ok(r.signature.to_vec()),
        other => Err(unexpected(other)),
    }
}

fn verify_op(digest: &[u8], signature: &[u8]) -> NativeOperation {
    NativeOperation::PsaVerifyHash(psa_verify_hash::Operation {
        key_name: KEY_NAME.to_string(),
        alg: ecdsa_sha256(),
        hash: digest.to_vec().into(),
        signature: signature.to_vec().into(),
    })
}

fn check_sign_verify(c: &Client) -> Check {
    let signature = sign(c, &SHA256_ABC)?;
    // P-256 ECDSA signatures are r || s, 32 bytes each.
    ensure(signature.len() == 64, || {
        format!("signature of {} bytes", signature.len())
    })?;
    match c.call(
        ProviderId::MbedCrypto,
        Auth::Direct(USER_APP),
        verify_op(&SHA256_ABC, &signature),
    )? {
        NativeResult::PsaVerifyHash(_) => {}
        other => return Err(unexpected(other)),
    }
    let mut forged = signature;
    forged[10] ^= 0x01;
    c.expect_status(
        ProviderId::MbedCrypto,
        Auth::Direct(USER_APP),
        verify_op(&SHA256_ABC, &forged),
        ResponseStatus::PsaErrorInvalidSignature,
    )
}

fn check_export_public_key(c: &Client) -> Check {
    match c.call(
        ProviderId::MbedCrypto,
        Auth::Direct(USER_APP),
        NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
            key_name: KEY_NAME.to_string(),
        }),
    )? {
        // Uncompressed SEC1 point: 0x04 || X || Y.
        NativeResult::PsaExportPublicKey(r) => {
            ensure(r.data.len() == 65 && r.data[0] == 0x04, || {
                format!("public key [{}]", hex(&r.data))
            })
        }
        other => Err(unexpected(other)),
    }
}

fn check_destroy_key(c: &Client) -> Check {
    let destroy = || {
        NativeOperation::PsaDestroyKey(psa_destroy_key::Operation {
            key_name: KEY_NAME.to_string(),
        })
    };
    match c.call(ProviderId::MbedCrypto, Auth::Direct(USER_APP), destroy())? {
        NativeResult::PsaDestroyKey(_) => {}
        other => return Err(unexpected(other)),
    }
    c.expect_status(
        ProviderId::MbedCrypto,
        Auth::Direct(USER_APP),
        destroy(),
        ResponseStatus::PsaErrorDoesNotExist,
    )
}

fn main() {
    let client = match Client::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("interop: {}", e);
            println!("0 passed, 1 failed");
            std::process::exit(1);
        }
    };
    let checks: &[(&str, fn(&Client) -> Check)] = &[
        ("Ping", check_ping),
        ("session handle echoed", check_session_echo),
        ("ListProviders", check_list_providers),
        ("ListOpcodes(core)", check_list_opcodes_core),
        ("ListOpcodes(Mbed Crypto)", check_list_opcodes_mbed),
        ("ListAuthenticators", check_list_authenticators),
        (
            "undefined opcode -> OpcodeDoesNotExist",
            check_undefined_opcode,
        ),
        (
            "ListClients unauthenticated -> NotAuthenticated",
            check_list_clients_unauthenticated,
        ),
        (
            "ListClients non-admin -> AdminOperation",
            check_list_clients_not_admin,
        ),
        ("PsaGenerateRandom(32)", check_generate_random),
        ("PsaHashCompute SHA-256(\"abc\")", check_hash_compute),
        ("PsaGenerateKey ECC P-256", check_generate_key),
        ("key isolation and admin ListClients", check_key_isolation),
        ("PsaSignHash + PsaVerifyHash", check_sign_verify),
        ("PsaExportPublicKey", check_export_public_key),
        ("PsaDestroyKey", check_destroy_key),
    ];
    let mut passed = 0;
    let mut failed = 0;
    for (name, check) in checks {
        match check(&client) {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", name);
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {}: {}", name, e);
            }
        }
    }
    println!("{} passed, {} failed", passed, failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
