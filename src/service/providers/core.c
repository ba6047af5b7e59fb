#define _POSIX_C_SOURCE 200809L
#include "service/providers/core.h"

#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "common/log.h"
#include "delete_client.pb-c.h"
#include "list_authenticators.pb-c.h"
#include "list_clients.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "ping.pb-c.h"
#include "psa/convert.h"
#include "service/auth/auth.h"
#include "service/codec.h"
#include "service/kim/kim.h"
#include "wire/status.h"

static const char *const MOD = "parsec::core";

const uint32_t core_advertised_opcodes[5] = {
    PSC_OP_PING, PSC_OP_LIST_PROVIDERS, PSC_OP_LIST_OPCODES, PSC_OP_LIST_AUTHENTICATORS,
    PSC_OP_LIST_KEYS,
};

static const char CORE_UUID[] = "47049873-2a43-4845-9d72-831eab668784";
static const char CORE_DESCRIPTION[] =
    "Software provider that implements only administrative (i.e. no cryptographic) operations";

static int pack(const ProtobufCMessage *m, uint8_t **body, size_t *len)
{
    return codec_encode_msg(m, body, len);
}

static int op_ping(uint8_t **body, size_t *len)
{
    Ping__Result r = PING__RESULT__INIT;
    r.wire_protocol_version_maj = 1;
    r.wire_protocol_version_min = 0;
    return pack(&r.base, body, len);
}

static void provider_info(ListProviders__ProviderInfo *pi, const char *uuid, const char *desc,
                          const char *vendor, uint32_t maj, uint32_t min, uint32_t rev,
                          uint32_t id)
{
    list_providers__provider_info__init(pi);
    pi->uuid = (char *)uuid;
    pi->description = (char *)desc;
    pi->vendor = (char *)vendor;
    pi->version_maj = maj;
    pi->version_min = min;
    pi->version_rev = rev;
    pi->id = id;
}

static int op_list_providers(struct psc_service *s, uint8_t **body, size_t *len)
{
    size_t n = s->n_providers + 1;
    ListProviders__ProviderInfo *infos = calloc(n, sizeof(*infos));
    ListProviders__ProviderInfo **ptrs = calloc(n, sizeof(*ptrs));
    int rc = PSC_PSA_INSUFFICIENT_MEMORY;
    if (!infos || !ptrs)
        goto out;
    for (size_t i = 0; i < s->n_providers; i++) {
        const struct psc_provider_type *t = s->providers[i]->type;
        provider_info(&infos[i], t->uuid, t->description, t->vendor, t->version_maj,
                      t->version_min, t->version_rev, t->id);
        ptrs[i] = &infos[i];
    }
    provider_info(&infos[n - 1], CORE_UUID, CORE_DESCRIPTION, "", PARSEC_VERSION_MAJ,
                  PARSEC_VERSION_MIN, PARSEC_VERSION_REV, PSC_PROVIDER_CORE);
    ptrs[n - 1] = &infos[n - 1];
    ListProviders__Result r = LIST_PROVIDERS__RESULT__INIT;
    r.n_providers = n;
    r.providers = ptrs;
    rc = pack(&r.base, body, len);
out:
    free(infos);
    free(ptrs);
    return rc;
}

static int op_list_opcodes(struct psc_service *s, const uint8_t *in, size_t in_len,
                           uint8_t **body, size_t *len)
{
    ProtobufCMessage *m = NULL;
    int rc = codec_decode_msg(PSC_OP_LIST_OPCODES, in, in_len, &m);
    if (rc != 0)
        return rc;
    uint32_t id = ((ListOpcodes__Operation *)m)->provider_id;
    codec_msg_free(m);
    /* The original casts the id to 8 bits before checking it. */
    id &= 0xFF;
    uint32_t ops[PSC_OP_LIMIT];
    size_t n = 0;
    if (id > PSC_PROVIDER_ID_MAX)
        return PSC_PROVIDER_DOES_NOT_EXIST;
    if (id == PSC_PROVIDER_CORE) {
        memcpy(ops, core_advertised_opcodes, sizeof(core_advertised_opcodes));
        n = sizeof(core_advertised_opcodes) / sizeof(core_advertised_opcodes[0]);
    } else {
        struct psc_provider *p = s->by_id[id];
        if (!p)
            return PSC_PROVIDER_NOT_REGISTERED;
        for (uint32_t op = 0; op < PSC_OP_LIMIT; op++)
            if (p->type->ops[op])
                ops[n++] = op;
    }
    ListOpcodes__Result r = LIST_OPCODES__RESULT__INIT;
    r.n_opcodes = n;
    r.opcodes = ops;
    return pack(&r.base, body, len);
}

static int op_list_authenticators(struct psc_service *s, uint8_t **body, size_t *len)
{
    ListAuthenticators__AuthenticatorInfo info[PSC_AUTH_TYPE_MAX];
    ListAuthenticators__AuthenticatorInfo *ptr[PSC_AUTH_TYPE_MAX];
    for (size_t i = 0; i < s->n_auths; i++) {
        list_authenticators__authenticator_info__init(&info[i]);
        info[i].id = auth_type(s->auths[i]);
        info[i].description = (char *)auth_description(auth_type(s->auths[i]));
        info[i].version_maj = 0;
        info[i].version_min = 1;
        info[i].version_rev = 0;
        ptr[i] = &info[i];
    }
    ListAuthenticators__Result r = LIST_AUTHENTICATORS__RESULT__INIT;
    r.n_authenticators = s->n_auths;
    r.authenticators = ptr;
    return pack(&r.base, body, len);
}

/* The keys of one application on one provider; NULL app lists every application's. */
static int provider_keys(struct psc_provider *p, const struct psc_app *app, struct kim_entry **e,
                         size_t *n)
{
    int rc = kim_list(p->kim, p->type->id, p->type->uuid, p->name, app ? app->name : NULL,
                      app ? app->auth : 0, e, n);
    if (rc != 0) {
        log_error(MOD, "provider \"%s\": cannot list keys: %s", p->name, psc_status_name(rc));
        *e = NULL;
        *n = 0;
    }
    return rc;
}

/* The mappings of every provider, concatenated in provider order; NULL app lists every
 * application's. A provider whose store cannot be read is left out (provider_keys logs it). */
static int all_keys(struct psc_service *s, const struct psc_app *app, struct kim_entry **out,
                    size_t *n_out)
{
    struct kim_entry *all = NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < s->n_providers; i++) {
        struct kim_entry *e;
        size_t ne;
        provider_keys(s->providers[i], app, &e, &ne);
        if (ne == 0) {
            kim_entries_free(e, ne);
            continue;
        }
        struct kim_entry *grown =
            ne <= SIZE_MAX / sizeof(*all) - n ? realloc(all, (n + ne) * sizeof(*all)) : NULL;
        if (!grown) {
            kim_entries_free(e, ne);
            rc = PSC_PSA_INSUFFICIENT_MEMORY;
            break;
        }
        all = grown;
        memcpy(all + n, e, ne * sizeof(*e)); /* the entries' strings move, not copied */
        n += ne;
        free(e);
    }
    if (rc != 0) {
        kim_entries_free(all, n);
        all = NULL;
        n = 0;
    }
    *out = all;
    *n_out = n;
    return rc;
}

static void free_key_infos(ListKeys__KeyInfo **keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i]->attributes)
            protobuf_c_message_free_unpacked(&keys[i]->attributes->base, NULL);
        free(keys[i]->name);
        free(keys[i]);
    }
    free(keys);
}

static int op_list_keys(struct psc_service *s, const struct psc_app *app, uint8_t **body,
                        size_t *len)
{
    struct kim_entry *e = NULL;
    size_t ne = 0, n = 0;
    ListKeys__KeyInfo **keys = NULL;
    int rc = all_keys(s, app, &e, &ne);
    if (rc != 0)
        return rc;
    if (!(keys = calloc(ne ? ne : 1, sizeof(*keys)))) {
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    for (size_t k = 0; k < ne; k++) {
        ListKeys__KeyInfo *ki = calloc(1, sizeof(*ki));
        if (!ki) {
            rc = PSC_PSA_INSUFFICIENT_MEMORY;
            goto out;
        }
        list_keys__key_info__init(ki);
        /* Clients require the attributes: a key without a wire form for them is left out
         * rather than sent incomplete. */
        if (conv_attrs_to_pb(&e[k].info.attrs, &ki->attributes) != 0) {
            char pb[LOG_STR_BUF];
            log_warn(MOD,
                     "provider \"%s\": a key whose attributes have no protobuf form "
                     "is not listed",
                     log_str(pb, e[k].provider_name));
            free(ki);
            continue;
        }
        keys[n++] = ki;
        ki->provider_id = e[k].provider_id;
        ki->name = e[k].key_name;
        e[k].key_name = NULL;
    }
    ListKeys__Result r = LIST_KEYS__RESULT__INIT;
    r.n_keys = n;
    r.keys = keys;
    rc = pack(&r.base, body, len);
out:
    free_key_infos(keys, n);
    kim_entries_free(e, ne);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int op_list_clients(struct psc_service *s, uint8_t **body, size_t *len)
{
    struct kim_entry *e = NULL;
    size_t ne = 0, n = 0;
    char **names = NULL;
    int rc = all_keys(s, NULL, &e, &ne);
    if (rc != 0)
        return rc;
    if (!(names = calloc(ne ? ne : 1, sizeof(*names)))) {
        rc = PSC_PSA_INSUFFICIENT_MEMORY;
        goto out;
    }
    for (size_t k = 0; k < ne; k++)
        if (e[k].auth != PSC_AUTH_INTERNAL)
            names[n++] = e[k].app; /* still owned by e */
    qsort(names, n, sizeof(*names), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
            names[u++] = names[i];
    ListClients__Result r = LIST_CLIENTS__RESULT__INIT;
    r.n_clients = u;
    r.clients = names;
    rc = pack(&r.base, body, len);
out:
    free(names);
    kim_entries_free(e, ne);
    return rc;
}

static int op_delete_client(struct psc_service *s, const struct psc_app *app, const uint8_t *in,
                            size_t in_len, uint8_t **body, size_t *len)
{
    ProtobufCMessage *m = NULL;
    int rc = codec_decode_msg(PSC_OP_DELETE_CLIENT, in, in_len, &m);
    if (rc != 0)
        return rc;
    /* The client's keys are those it owns under the caller's authenticator. */
    struct psc_app victim = {.name = ((DeleteClient__Operation *)m)->client, .auth = app->auth};
    for (size_t i = 0; i < s->n_providers; i++) {
        struct psc_provider *p = s->providers[i];
        psc_op_fn destroy = p->type->ops[PSC_OP_PSA_DESTROY_KEY];
        struct kim_entry *e;
        size_t ne;
        provider_keys(p, &victim, &e, &ne);
        for (size_t k = 0; destroy && k < ne; k++) {
            struct psc_args a = {.opcode = PSC_OP_PSA_DESTROY_KEY, .key_name = e[k].key_name};
            struct psc_out out = {.p = NULL};
            int drc = destroy(p, &victim, &a, &out);
            free(out.p);
            if (drc != 0)
                log_error(MOD, "DeleteClient: a key on provider \"%s\" was not destroyed: %s",
                          p->name, psc_status_name(drc));
        }
        kim_entries_free(e, ne);
    }
    codec_msg_free(m);
    *body = NULL;
    *len = 0;
    return 0;
}

int core_handle(struct psc_service *s, const struct psc_app *app, uint32_t opcode,
                const uint8_t *in, size_t in_len, uint8_t **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    /* Operations without fields still have their body checked, as the original does. */
    if (opcode != PSC_OP_LIST_OPCODES && opcode != PSC_OP_DELETE_CLIENT) {
        ProtobufCMessage *m = NULL;
        int rc = codec_decode_msg(opcode, in, in_len, &m);
        if (rc != 0)
            return rc;
        codec_msg_free(m);
    }
    switch (opcode) {
    case PSC_OP_PING:
        return op_ping(body, len);
    case PSC_OP_LIST_PROVIDERS:
        return op_list_providers(s, body, len);
    case PSC_OP_LIST_OPCODES:
        return op_list_opcodes(s, in, in_len, body, len);
    case PSC_OP_LIST_AUTHENTICATORS:
        return op_list_authenticators(s, body, len);
    case PSC_OP_LIST_KEYS:
        if (!app->name)
            return PSC_NOT_AUTHENTICATED;
        return op_list_keys(s, app, body, len);
    case PSC_OP_LIST_CLIENTS:
        return op_list_clients(s, body, len);
    case PSC_OP_DELETE_CLIENT:
        return op_delete_client(s, app, in, in_len, body, len);
    default:
        return PSC_PSA_NOT_SUPPORTED;
    }
}
