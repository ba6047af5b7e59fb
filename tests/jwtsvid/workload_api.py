#!/usr/bin/python3
"""A SPIFFE Workload API for the tests, on a private Unix socket.

It speaks the JWT-SVID profile of the SPIFFE Workload API (FetchJWTSVID, ValidateJWTSVID) over
gRPC, issues JWT-SVIDs (ES256) signed with a test key and validates them as an agent does:
signature, expiry, audience, and the workload.spiffe.io header. It can also misbehave, which
the file <socket>.mode selects at each call:
  normal   as an agent
  slow     waits 30 s before answering
Each ValidateJWTSVID call appends a line to <socket>.calls, so that a test knows it arrived.
  huge     answers ValidateJWTSVID with a 1 MiB message
  garbage  answers with bytes that are no protobuf message
  noid     validates but names no SPIFFE ID

Usage:
  workload_api.py serve SOCKET KEYFILE
  workload_api.py mint KEYFILE SPIFFE_ID AUDIENCE LIFETIME_S   (prints a token; negative
                                                             lifetimes give expired tokens)
"""
import os
import sys
import time
from concurrent import futures

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# ---- protobuf, by hand: the messages hold strings only -------------------------------------


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _string(field, s):
    b = s.encode() if isinstance(s, str) else s
    return _varint(field << 3 | 2) + _varint(len(b)) + b


def _fields(buf):
    """(field, bytes) of every length-delimited field; other wire types are skipped."""
    i, out = 0, []
    while i < len(buf):
        key, i = _read_varint(buf, i)
        field, wt = key >> 3, key & 7
        if wt == 2:
            n, i = _read_varint(buf, i)
            out.append((field, buf[i:i + n]))
            i += n
        elif wt == 0:
            _, i = _read_varint(buf, i)
        else:
            raise ValueError("unexpected wire type")
    return out


def _read_varint(buf, i):
    n, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


# ---- tokens --------------------------------------------------------------------------------


def load_key(path):
    if not os.path.exists(path):
        key = ec.generate_private_key(ec.SECP256R1())
        with open(path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def mint(key, spiffe_id, audience, lifetime):
    now = int(time.time())
    claims = {"sub": spiffe_id, "aud": [audience], "iat": now - 1, "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "test"})


# ---- the service ---------------------------------------------------------------------------


class WorkloadApi:
    def __init__(self, sock, key):
        self.mode_file = sock + ".mode"
        self.calls_file = sock + ".calls"
        self.key = key

    def mode(self):
        try:
            with open(self.mode_file) as f:
                return f.read().strip()
        except OSError:
            return "normal"

    def check_header(self, context):
        if ("workload.spiffe.io", "true") not in context.invocation_metadata():
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")

    def fetch(self, req, context):
        self.check_header(context)
        f = _fields(req)
        aud = [v.decode() for k, v in f if k == 1]
        ids = [v.decode() for k, v in f if k == 2]
        if not aud:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "audience must be specified")
        sid = ids[0] if ids else "spiffe://example.org/default"
        token = mint(self.key, sid, aud[0], 300)
        return _string(1, _string(1, sid) + _string(2, token))

    def validate(self, req, context):
        self.check_header(context)
        with open(self.calls_file, "a") as f:
            f.write("ValidateJWTSVID\n")
        mode = self.mode()
        if mode == "slow":
            time.sleep(30)
        if mode == "huge":
            return _string(1, "spiffe://example.org/" + "x" * (1 << 20))
        if mode == "garbage":
            return b"\xff\xff\xff\xff\x0f\x0a"
        f = dict(_fields(req))
        aud, svid = f.get(1, b"").decode(), f.get(2, b"").decode()
        try:
            claims = jwt.decode(svid, self.key.public_key(), algorithms=["ES256"],
                                audience=aud, options={"require": ["exp", "aud", "sub"]})
        except Exception as e:  # every rejection is the client's error, as an agent answers
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "token is invalid: %s" % e)
        if mode == "noid":
            return b""
        return _string(1, claims["sub"])


def serve(sock, keyfile):
    api = WorkloadApi(sock, load_key(keyfile))
    ident = lambda b: b  # noqa: E731 - messages are encoded above
    handler = grpc.method_handlers_generic_handler("SpiffeWorkloadAPI", {
        "FetchJWTSVID": grpc.unary_unary_rpc_method_handler(api.fetch, ident, ident),
        "ValidateJWTSVID": grpc.unary_unary_rpc_method_handler(api.validate, ident, ident),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                         options=[("grpc.max_send_message_length", 4 << 20)])
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("unix:" + sock)
    server.start()
    server.wait_for_termination()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "mint":
        print(mint(load_key(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])))
    else:
        sys.exit(__doc__)
