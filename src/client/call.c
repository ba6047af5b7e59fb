/* The generic request: settings snapshot, framing, one exchange, reply checks, unpacking. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_int.h"
#ifdef PARSEC_JWT_SVID
#include "common/spiffe.h"
#endif
#include "wire/header.h"
#include "wire/status.h"

void cl_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

int cl_check_name(const char *name)
{
    if (!name || strnlen(name, PARSEC_KEY_NAME_MAX + 1) > PARSEC_KEY_NAME_MAX)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    return 0;
}

int cl_check_buf(const void *data, size_t len)
{
    return (!data && len) ? PARSEC_ERROR_INVALID_ARGUMENT : 0;
}

int cl_conv_error(int rc)
{
    return rc == 0 ? 0 : PARSEC_ERROR_ENCODING;
}

int cl_copy_out(const ProtobufCBinaryData *src, uint8_t *out, size_t out_size, size_t *out_len)
{
    if (!out_len)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out_len = src->len;
    if (src->len > out_size || (!out && src->len))
        return PARSEC_ERROR_BUFFER_TOO_SMALL;
    if (src->len)
        memcpy(out, src->data, src->len);
    return 0;
}

int cl_auth_bytes(int auth_type, const char *app_name, uint8_t **auth, size_t *auth_len)
{
    *auth = NULL;
    *auth_len = 0;
    switch (auth_type) {
    case PARSEC_AUTH_NONE:
        return 0;
    case PARSEC_AUTH_DIRECT: {
        if (!app_name)
            return PARSEC_ERROR_MISSING_PARAM;
        size_t n = strlen(app_name);
        if (n == 0 || n > PARSEC_KEY_NAME_MAX)
            return PARSEC_ERROR_INVALID_ARGUMENT;
        if (!(*auth = malloc(n)))
            return PARSEC_ERROR_NO_MEMORY;
        memcpy(*auth, app_name, n);
        *auth_len = n;
        return 0;
    }
    case PARSEC_AUTH_UNIX_PEER_CREDENTIALS: {
        /* The real uid, little-endian: the service compares it with the peer's euid. */
        uint32_t uid = (uint32_t)getuid();
        if (!(*auth = malloc(4)))
            return PARSEC_ERROR_NO_MEMORY;
        for (int i = 0; i < 4; i++)
            (*auth)[i] = (uint8_t)(uid >> (8 * i));
        *auth_len = 4;
        return 0;
    }
    default:
        return PARSEC_ERROR_NOT_SUPPORTED;
    }
}

int cl_spiffe_endpoint(const char **endpoint)
{
#ifdef PARSEC_JWT_SVID
    *endpoint = getenv(PARSEC_SPIFFE_ENDPOINT_ENV);
    return *endpoint && spiffe_endpoint_ok(*endpoint) ? 0 : PARSEC_ERROR_SPIFFE_SOCKET;
#else
    *endpoint = NULL;
    return PARSEC_ERROR_NOT_SUPPORTED;
#endif
}

/* A JWT-SVID for audience parsec, fetched for this request alone, as the original clients do:
 * tokens are short-lived. The library prints nothing; the code tells which side failed. */
static int jwt_svid_bytes(uint8_t **auth, size_t *auth_len)
{
#ifdef PARSEC_JWT_SVID
    const char *endpoint;
    int rc = cl_spiffe_endpoint(&endpoint);
    if (rc != 0)
        return rc;
    char *token, err[256];
    if (spiffe_fetch_jwt(endpoint, SPIFFE_PARSEC_AUDIENCE, CL_SPIFFE_TIMEOUT_MS, &token, err,
                         sizeof(err)) != 0)
        return PARSEC_ERROR_SPIFFE;
    *auth_len = strlen(token);
    *auth = (uint8_t *)token; /* wiped and freed by cl_settings_clear */
    return 0;
#else
    (void)auth;
    (void)auth_len;
    return PARSEC_ERROR_NOT_SUPPORTED;
#endif
}

int cl_settings_get(struct parsec_client *c, enum cl_route route, struct cl_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->socket_path = c->socket_path;
    pthread_mutex_lock(&c->lock);
    int provider = c->provider;
    int auth_type = route == CL_ROUTE_CORE_NOAUTH ? PARSEC_AUTH_NONE : c->auth_type;
    /* The Workload API is asked outside the lock: other threads' requests need not wait. */
    int rc = auth_type == PARSEC_AUTH_JWT_SVID
                 ? 0
                 : cl_auth_bytes(auth_type, c->app_name, &s->auth, &s->auth_len);
    s->timeout_ms = c->timeout_ms;
    s->max_body = c->max_body;
    pthread_mutex_unlock(&c->lock);
    if (rc == 0 && auth_type == PARSEC_AUTH_JWT_SVID)
        rc = jwt_svid_bytes(&s->auth, &s->auth_len);
    if (rc != 0)
        return rc;
    s->auth_type = (uint8_t)auth_type;
    if (route == CL_ROUTE_CRYPTO) {
        if (provider == PARSEC_PROVIDER_CORE) {
            cl_settings_clear(s);
            return PARSEC_ERROR_INVALID_PROVIDER;
        }
        s->provider = (uint8_t)provider;
    } else if (route == CL_ROUTE_TPM) {
        s->provider = PARSEC_PROVIDER_TPM;
    }
    return 0;
}

void cl_settings_clear(struct cl_settings *s)
{
    if (s->auth) {
        cl_wipe(s->auth, s->auth_len);
        free(s->auth);
    }
    s->auth = NULL;
    s->auth_len = 0;
}

/* Wipes every bytes field of a message tree. */
static void wipe_bytes(ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *member = (char *)m + f->offset;
        size_t n = 1;
        /* A oneof member is meaningful only when it is the one set. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(size_t *)((char *)m + f->quantifier_offset);
            member = *(char **)member;
            if (!member)
                continue;
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_BYTES) {
                ProtobufCBinaryData *bd = (ProtobufCBinaryData *)member + k;
                cl_wipe(bd->data, bd->len);
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                ProtobufCMessage *sub = ((ProtobufCMessage **)member)[k];
                if (sub)
                    wipe_bytes(sub);
            }
        }
    }
}

void cl_result_free(ProtobufCMessage *m)
{
    if (!m)
        return;
    wipe_bytes(m);
    protobuf_c_message_free_unpacked(m, NULL);
}

int cl_call_with(const struct cl_settings *s, uint32_t opcode, const ProtobufCMessage *op,
                 const ProtobufCMessageDescriptor *result_desc, ProtobufCMessage **result)
{
    uint8_t *req = NULL, *body = NULL;
    size_t total = 0;
    struct psc_header h = {0}, rsp = {0};
    int rc;

    if (result)
        *result = NULL;
    size_t body_len = op ? protobuf_c_message_get_packed_size(op) : 0;
    if (body_len > UINT32_MAX || s->auth_len > UINT16_MAX) {
        rc = PARSEC_ERROR_INVALID_ARGUMENT;
        goto out;
    }
    total = PSC_WIRE_HEADER_SIZE + body_len + s->auth_len;
    if (!(req = malloc(total))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    h.version_maj = PSC_WIRE_VERSION_MAJ;
    h.version_min = PSC_WIRE_VERSION_MIN;
    h.provider = s->provider;
    h.auth_type = s->auth_type;
    h.body_len = (uint32_t)body_len;
    h.auth_len = (uint16_t)s->auth_len;
    h.opcode = opcode;
    psc_header_encode(&h, req);
    if (op && protobuf_c_message_pack(op, req + PSC_WIRE_HEADER_SIZE) != body_len) {
        rc = PARSEC_ERROR_ENCODING;
        goto out;
    }
    if (s->auth_len)
        memcpy(req + PSC_WIRE_HEADER_SIZE + body_len, s->auth, s->auth_len);

    rc = cl_transport(s, req, total, &rsp, &body);
    if (rc != 0)
        goto out;
    /* The status comes first: early errors are answered with a generic header (opcode Ping). */
    if (rsp.status != PSC_SUCCESS) {
        rc = rsp.status;
        goto out;
    }
    if (rsp.opcode != opcode) {
        rc = PARSEC_ERROR_INVALID_SERVICE_RESPONSE_TYPE;
        goto out;
    }
    if (result_desc && result) {
        *result = protobuf_c_message_unpack(result_desc, NULL, rsp.body_len, body);
        if (!*result)
            rc = PARSEC_ERROR_RESPONSE_BODY;
    }
out : {
    int e = errno; /* PARSEC_ERROR_CONNECT documents errno */
    if (req) {
        cl_wipe(req, total);
        free(req);
    }
    if (body) {
        cl_wipe(body, rsp.body_len);
        free(body);
    }
    errno = e;
}
    return rc;
}

int cl_call_out(struct parsec_client *c, uint32_t opcode, const ProtobufCMessage *op,
                const ProtobufCMessageDescriptor *result_desc, size_t field, uint8_t *out,
                size_t out_size, size_t *out_len)
{
    ProtobufCMessage *r = NULL;
    if (!out_len)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out_len = 0; /* a failed call leaves no stale length behind */
    int rc = cl_call(c, CL_ROUTE_CRYPTO, opcode, op, result_desc, &r);
    if (rc != 0)
        return rc;
    const ProtobufCBinaryData *src = (const ProtobufCBinaryData *)((const char *)r + field);
    rc = cl_copy_out(src, out, out_size, out_len);
    cl_result_free(r);
    return rc;
}

int cl_call(struct parsec_client *c, enum cl_route route, uint32_t opcode,
            const ProtobufCMessage *op, const ProtobufCMessageDescriptor *result_desc,
            ProtobufCMessage **result)
{
    struct cl_settings s;
    if (result)
        *result = NULL;
    if (!c)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    int rc = cl_settings_get(c, route, &s);
    if (rc != 0)
        return rc;
    rc = cl_call_with(&s, opcode, op, result_desc, result);
    int e = errno; /* PARSEC_ERROR_CONNECT documents errno */
    cl_settings_clear(&s);
    errno = e;
    return rc;
}
