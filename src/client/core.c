/* Core operations (operations.md §4): always sent to provider 0. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"
#include "common/hex.h"
#include "delete_client.pb-c.h"
#include "list_authenticators.pb-c.h"
#include "list_clients.pb-c.h"
#include "list_keys.pb-c.h"
#include "list_opcodes.pb-c.h"
#include "list_providers.pb-c.h"
#include "ping.pb-c.h"
#include "psa/convert.h"
#include "wire/opcode.h"

const char *parsec_opcode_name(uint32_t opcode)
{
    return psc_opcode_name(opcode);
}

int parsec_ping(struct parsec_client *c, uint8_t *maj, uint8_t *min)
{
    Ping__Result *r = NULL;
    int rc = cl_call(c, CL_ROUTE_CORE_NOAUTH, PARSEC_OP_PING, NULL, &ping__result__descriptor,
                     (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (r->wire_protocol_version_maj > 255 || r->wire_protocol_version_min > 255) {
        rc = PARSEC_ERROR_ENCODING;
    } else {
        if (maj)
            *maj = (uint8_t)r->wire_protocol_version_maj;
        if (min)
            *min = (uint8_t)r->wire_protocol_version_min;
    }
    cl_result_free(&r->base);
    return rc;
}

/* Accepts the forms a UUID parser accepts (simple, hyphenated, braced, URN) and writes the
 * lower-case hyphenated form. */
static int uuid_normalise(const char *in, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    size_t n = strlen(in);
    if (n > 9 && strncasecmp(in, "urn:uuid:", 9) == 0) {
        in += 9;
        n -= 9;
    } else if (n == 38 && in[0] == '{' && in[37] == '}') {
        in++;
        n = 36;
    }
    int hyphens = n == 36;
    if (n != 32 && n != 36)
        return PARSEC_ERROR_RESPONSE_UUID;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (in[i] != '-')
                return PARSEC_ERROR_RESPONSE_UUID;
            continue;
        }
        int hi = hex_digit(in[i]), lo = i + 1 < n ? hex_digit(in[i + 1]) : -1;
        if (hi < 0 || lo < 0 || k >= 16)
            return PARSEC_ERROR_RESPONSE_UUID;
        b[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    if (k != 16)
        return PARSEC_ERROR_RESPONSE_UUID;
    char *o = out;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
    return 0;
}

void parsec_provider_info_free(struct parsec_provider_info *p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++) {
        free(p[i].description);
        free(p[i].vendor);
    }
    free(p);
}

int parsec_list_providers(struct parsec_client *c, struct parsec_provider_info **out, size_t *count)
{
    ListProviders__Result *r = NULL;
    struct parsec_provider_info *p = NULL;
    size_t n = 0;
    if (!out || !count)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    *count = 0;
    int rc = cl_call(c, CL_ROUTE_CORE, PARSEC_OP_LIST_PROVIDERS, NULL,
                     &list_providers__result__descriptor, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (r->n_providers && !(p = calloc(r->n_providers, sizeof(*p)))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    for (; n < r->n_providers; n++) {
        const ListProviders__ProviderInfo *in = r->providers[n];
        struct parsec_provider_info *o = &p[n];
        if (in->id > PARSEC_PROVIDER_ID_MAX) {
            rc = PARSEC_ERROR_RESPONSE_PROVIDER;
            goto out;
        }
        if ((rc = uuid_normalise(in->uuid, o->uuid)) != 0)
            goto out;
        o->id = (uint8_t)in->id;
        o->version_maj = in->version_maj;
        o->version_min = in->version_min;
        o->version_rev = in->version_rev;
        if (!(o->description = strdup(in->description)) || !(o->vendor = strdup(in->vendor))) {
            n++;
            rc = PARSEC_ERROR_NO_MEMORY;
            goto out;
        }
    }
out:
    cl_result_free(&r->base);
    if (rc != 0) {
        parsec_provider_info_free(p, n);
        return rc;
    }
    *out = p;
    *count = n;
    return 0;
}

void parsec_authenticator_info_free(struct parsec_authenticator_info *a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++)
        free(a[i].description);
    free(a);
}

int parsec_list_authenticators(struct parsec_client *c, struct parsec_authenticator_info **out,
                               size_t *count)
{
    ListAuthenticators__Result *r = NULL;
    struct parsec_authenticator_info *a = NULL;
    size_t n = 0;
    if (!out || !count)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    *count = 0;
    int rc = cl_call(c, CL_ROUTE_CORE, PARSEC_OP_LIST_AUTHENTICATORS, NULL,
                     &list_authenticators__result__descriptor, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (r->n_authenticators && !(a = calloc(r->n_authenticators, sizeof(*a)))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    for (; n < r->n_authenticators; n++) {
        const ListAuthenticators__AuthenticatorInfo *in = r->authenticators[n];
        if (in->id > PARSEC_AUTH_JWT_SVID) {
            rc = PARSEC_ERROR_ENCODING;
            goto out;
        }
        a[n].id = (uint8_t)in->id;
        a[n].version_maj = in->version_maj;
        a[n].version_min = in->version_min;
        a[n].version_rev = in->version_rev;
        if (!(a[n].description = strdup(in->description))) {
            rc = PARSEC_ERROR_NO_MEMORY;
            goto out;
        }
    }
out:
    cl_result_free(&r->base);
    if (rc != 0) {
        parsec_authenticator_info_free(a, n);
        return rc;
    }
    *out = a;
    *count = n;
    return 0;
}

void parsec_opcodes_free(uint32_t *opcodes)
{
    free(opcodes);
}

int parsec_list_opcodes(struct parsec_client *c, int provider, uint32_t **out, size_t *count)
{
    ListOpcodes__Operation op = LIST_OPCODES__OPERATION__INIT;
    ListOpcodes__Result *r = NULL;
    uint32_t *o = NULL;
    if (!out || !count || provider < 0 || provider > 255)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    *count = 0;
    op.provider_id = (uint32_t)provider;
    int rc = cl_call(c, CL_ROUTE_CORE, PARSEC_OP_LIST_OPCODES, &op.base,
                     &list_opcodes__result__descriptor, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    size_t n = r->n_opcodes;
    /* One extra slot so that an empty list is still a valid allocation. */
    if (!(o = calloc(n + 1, sizeof(*o)))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!psc_opcode_is_valid(r->opcodes[i])) {
            rc = PARSEC_ERROR_ENCODING;
            goto out;
        }
        o[i] = r->opcodes[i];
    }
out:
    cl_result_free(&r->base);
    if (rc != 0) {
        free(o);
        return rc;
    }
    *out = o;
    *count = n;
    return 0;
}

void parsec_key_info_free(struct parsec_key_info *k, size_t n)
{
    if (!k)
        return;
    for (size_t i = 0; i < n; i++)
        free(k[i].name);
    free(k);
}

int parsec_list_keys(struct parsec_client *c, struct parsec_key_info **out, size_t *count)
{
    ListKeys__Result *r = NULL;
    struct parsec_key_info *k = NULL;
    size_t n = 0;
    if (!out || !count)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    *count = 0;
    int rc = cl_call(c, CL_ROUTE_CORE, PARSEC_OP_LIST_KEYS, NULL, &list_keys__result__descriptor,
                     (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (r->n_keys && !(k = calloc(r->n_keys, sizeof(*k)))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    for (; n < r->n_keys; n++) {
        const ListKeys__KeyInfo *in = r->keys[n];
        struct psc_attrs a;
        if (in->provider_id > PARSEC_PROVIDER_ID_MAX) {
            rc = PARSEC_ERROR_RESPONSE_PROVIDER;
            goto out;
        }
        if ((rc = cl_conv_error(conv_attrs_from_pb(in->attributes, &a))) != 0)
            goto out;
        k[n].provider_id = (uint8_t)in->provider_id;
        k[n].attributes.type = a.type;
        k[n].attributes.bits = a.bits;
        k[n].attributes.usage = a.usage;
        k[n].attributes.alg = a.alg;
        if (!(k[n].name = strdup(in->name))) {
            rc = PARSEC_ERROR_NO_MEMORY;
            goto out;
        }
    }
out:
    cl_result_free(&r->base);
    if (rc != 0) {
        parsec_key_info_free(k, n);
        return rc;
    }
    *out = k;
    *count = n;
    return 0;
}

int parsec_key_attributes(struct parsec_client *c, const char *name,
                          struct parsec_key_attributes *attributes, uint8_t *provider_id)
{
    struct parsec_key_info *k = NULL;
    size_t n = 0;
    int rc = cl_check_name(name);
    if (rc != 0 || !attributes)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    if ((rc = parsec_list_keys(c, &k, &n)) != 0)
        return rc;
    rc = PARSEC_ERROR_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(k[i].name, name) == 0) {
            *attributes = k[i].attributes;
            if (provider_id)
                *provider_id = k[i].provider_id;
            rc = 0;
            break;
        }
    }
    parsec_key_info_free(k, n);
    return rc;
}

void parsec_string_list_free(char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

int parsec_list_clients(struct parsec_client *c, char ***out, size_t *count)
{
    ListClients__Result *r = NULL;
    char **l = NULL;
    size_t n = 0;
    if (!out || !count)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    *count = 0;
    int rc = cl_call(c, CL_ROUTE_CORE, PARSEC_OP_LIST_CLIENTS, NULL,
                     &list_clients__result__descriptor, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (!(l = calloc(r->n_clients + 1, sizeof(*l)))) {
        rc = PARSEC_ERROR_NO_MEMORY;
        goto out;
    }
    for (; n < r->n_clients; n++) {
        if (!(l[n] = strdup(r->clients[n]))) {
            rc = PARSEC_ERROR_NO_MEMORY;
            goto out;
        }
    }
out:
    cl_result_free(&r->base);
    if (rc != 0) {
        parsec_string_list_free(l, n);
        return rc;
    }
    *out = l;
    *count = n;
    return 0;
}

int parsec_delete_client(struct parsec_client *c, const char *name)
{
    DeleteClient__Operation op = DELETE_CLIENT__OPERATION__INIT;
    int rc = cl_check_name(name);
    if (rc != 0)
        return rc;
    op.client = (char *)name;
    return cl_call(c, CL_ROUTE_CORE, PARSEC_OP_DELETE_CLIENT, &op.base, NULL, NULL);
}
