#define _POSIX_C_SOURCE 200809L
#include "service/frontend.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <protobuf-c/protobuf-c.h>

#include "common/log.h"
#include "service/codec.h"
#include "service/providers/core.h"
#include "wire/opcode.h"
#include "wire/status.h"

static const char *const MOD = "parsec::front";

void frontend_generic_reply(int status, uint8_t out[PSC_WIRE_HEADER_SIZE])
{
    struct psc_header h;
    psc_header_generic_reply(&h, status);
    psc_header_encode(&h, out);
}

/* Steps 9-13: values the header itself can be checked for; answered with the generic header. */
static int check_header(const struct psc_header *h)
{
    if (h->content_type != 0)
        return PSC_CONTENT_TYPE_NOT_SUPPORTED;
    if (h->accept_type != 0)
        return PSC_ACCEPT_TYPE_NOT_SUPPORTED;
    if (h->auth_type > PSC_AUTH_TYPE_MAX)
        return PSC_AUTHENTICATOR_DOES_NOT_EXIST;
    if (!psc_opcode_is_valid(h->opcode))
        return PSC_OPCODE_DOES_NOT_EXIST;
    if (h->provider > PSC_PROVIDER_ID_MAX)
        return PSC_PROVIDER_DOES_NOT_EXIST;
    return 0;
}

/* Steps 14-15: the configured authenticator the request names, if it names one. */
static int authenticate(struct psc_service *s, const struct fe_request *rq, struct psc_app *app,
                        char **name)
{
    *name = NULL;
    memset(app, 0, sizeof(*app));
    if (rq->h.auth_type == PSC_AUTH_NONE) {
        log_info(MOD, "New request received without authentication");
        return 0;
    }
    /* check_header has bounded auth_type. */
    struct psc_auth *a = s->auth_by_type[rq->h.auth_type];
    if (!a)
        return PSC_AUTHENTICATOR_NOT_REGISTERED;
    int rc = auth_authenticate(a, rq->auth, rq->h.auth_len, rq->peer, name);
    if (rc != 0)
        return rc;
    app->name = *name;
    app->auth = rq->h.auth_type;
    app->is_admin = auth_is_admin(a, *name);
    return 0;
}

/* Steps 16-17: the provider must run here and serve this class of opcode. */
static int route(struct psc_service *s, const struct psc_header *h, struct psc_provider **p)
{
    *p = NULL;
    if (h->provider != PSC_PROVIDER_CORE) {
        *p = s->by_id[h->provider];
        if (!*p)
            return PSC_PROVIDER_NOT_REGISTERED;
    }
    if (psc_opcode_is_core(h->opcode) != (h->provider == PSC_PROVIDER_CORE))
        return PSC_PSA_NOT_SUPPORTED;
    return 0;
}

/* Steps 20-23 for a crypto provider. */
static int run_crypto(struct psc_provider *p, const struct psc_app *app, const struct psc_header *h,
                      const uint8_t *in, uint8_t **body, size_t *len)
{
    struct psc_args args;
    struct psc_out out = {.p = NULL};
    ProtobufCMessage *msg = NULL;
    int rc = codec_decode_args(h->opcode, in, h->body_len, &args, &msg);
    if (rc != 0)
        goto out;
    if (psc_opcode_needs_auth(h->opcode) && app->name == NULL) {
        rc = PSC_NOT_AUTHENTICATED;
        goto out;
    }
    psc_op_fn fn = p->type->ops[h->opcode];
    rc = fn ? fn(p, app, &args, &out) : PSC_PSA_NOT_SUPPORTED;
    if (rc == 0)
        rc = codec_encode_bytes(h->opcode, &out, body, len);
out:
    if (out.p) {
        mbedtls_platform_zeroize(out.p, out.len);
        free(out.p);
    }
    codec_msg_free(msg);
    return rc;
}

static int dispatch(struct psc_service *s, const struct fe_request *rq, uint8_t **body, size_t *len)
{
    const struct psc_header *h = &rq->h;
    struct psc_app app;
    struct psc_provider *p;
    char *name = NULL;
    int rc = authenticate(s, rq, &app, &name);
    if (rc == 0)
        rc = route(s, h, &p);
    if (rc == 0 && psc_opcode_is_admin(h->opcode)) {
        if (!app.name)
            rc = PSC_NOT_AUTHENTICATED;
        else if (!app.is_admin)
            rc = PSC_ADMIN_OPERATION;
    }
    if (rc == 0) {
        if (p)
            rc = run_crypto(p, &app, h, rq->body, body, len);
        else
            rc = core_handle(s, &app, h->opcode, rq->body, h->body_len, body, len);
    }
    free(name);
    return rc;
}

static struct psc_provider *serial_provider(struct psc_service *s, const struct psc_header *h)
{
    struct psc_provider *p = h->provider <= PSC_PROVIDER_ID_MAX ? s->by_id[h->provider] : NULL;
    return p && p->type->serial ? p : NULL;
}

int frontend_admit(struct psc_service *s, const struct psc_header *h, unsigned max)
{
    struct psc_provider *p = serial_provider(s, h);
    if (!p)
        return 1;
    unsigned n = atomic_load(&p->inside);
    while (n < max)
        if (atomic_compare_exchange_weak(&p->inside, &n, n + 1))
            return 1;
    return 0;
}

int frontend_release(struct psc_service *s, const struct psc_header *h)
{
    struct psc_provider *p = serial_provider(s, h);
    if (!p)
        return 0;
    atomic_fetch_sub(&p->inside, 1);
    return 1;
}

int frontend_handle(struct psc_service *s, const struct fe_request *rq, uint8_t **reply,
                    size_t *reply_len)
{
    uint8_t *body = NULL;
    size_t len = 0;
    struct psc_header out;
    int rc = check_header(&rq->h);
    if (rc != 0) {
        psc_header_generic_reply(&out, rc);
    } else {
        rc = dispatch(s, rq, &body, &len);
        /* The one place a status reaches the wire: a value clients cannot parse (a raw PSA
         * error, -1) must not leave the service, nor be taken by the caller for "no reply". */
        if (!psc_status_is_valid(rc)) {
            log_error(MOD, "internal status %d replaced by PsaErrorGenericError", rc);
            rc = PSC_PSA_GENERIC_ERROR;
        }
        if (rc == 0 && len > s->cfg.core.buffer_size_limit + FE_REPLY_FRAMING) {
            log_warn(MOD, "a reply of %zu bytes exceeds buffer_size_limit", len);
            rc = PSC_RESPONSE_TOO_LARGE;
        }
        if (rc != 0 || len > UINT32_MAX) {
            rc = rc ? rc : PSC_SERIALIZING_BODY_FAILED;
            if (body)
                mbedtls_platform_zeroize(body, len);
            free(body);
            body = NULL;
            len = 0;
        }
        psc_header_echo_reply(&rq->h, &out, rc, (uint32_t)len);
    }
    if (rc != 0) {
        const char *op = psc_opcode_name(rq->h.opcode);
        log_info(MOD, "request %s: %s", op ? op : "(unknown opcode)", psc_status_name(rc));
    }
    *reply_len = PSC_WIRE_HEADER_SIZE + len;
    *reply = malloc(*reply_len);
    if (!*reply) {
        free(body);
        return -1;
    }
    psc_header_encode(&out, *reply);
    if (len)
        memcpy(*reply + PSC_WIRE_HEADER_SIZE, body, len);
    /* The body may hold exported keys or plaintexts. */
    if (body) {
        mbedtls_platform_zeroize(body, len);
        free(body);
    }
    return rc;
}
