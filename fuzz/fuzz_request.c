#include "fuzz_request.h"

#include <stdlib.h>
#include <string.h>

#include "psa/convert.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_import_key.pb-c.h"
#include "wire/header.h"
#include "wire/opcode.h"

int fuzz_request_build(uint8_t provider, uint32_t opcode, const char *app,
                       const ProtobufCMessage *op, uint8_t **out, size_t *len)
{
    size_t body_len = op ? protobuf_c_message_get_packed_size(op) : 0;
    size_t auth_len = app ? strlen(app) : 0;
    struct psc_header h = {0};
    uint8_t *buf;

    *out = NULL;
    *len = 0;
    if (body_len > UINT32_MAX || auth_len > UINT16_MAX)
        return -1;
    buf = malloc(PSC_WIRE_HEADER_SIZE + body_len + auth_len + 1);
    if (!buf)
        return -1;
    h.version_maj = PSC_WIRE_VERSION_MAJ;
    h.version_min = PSC_WIRE_VERSION_MIN;
    h.provider = provider;
    h.session = 0x1122334455667788u;
    h.auth_type = app ? PSC_AUTH_DIRECT : PSC_AUTH_NONE;
    h.body_len = (uint32_t)body_len;
    h.auth_len = (uint16_t)auth_len;
    h.opcode = opcode;
    psc_header_encode(&h, buf);
    if (op && protobuf_c_message_pack(op, buf + PSC_WIRE_HEADER_SIZE) != body_len) {
        free(buf);
        return -1;
    }
    if (auth_len)
        memcpy(buf + PSC_WIRE_HEADER_SIZE + body_len, app, auth_len);
    *out = buf;
    *len = PSC_WIRE_HEADER_SIZE + body_len + auth_len;
    return 0;
}

int fuzz_request_import(const struct fuzz_key *k, uint8_t **out, size_t *len)
{
    PsaImportKey__Operation op = PSA_IMPORT_KEY__OPERATION__INIT;
    PsaKeyAttributes__KeyAttributes *attrs = NULL;
    int rc;

    if (conv_attrs_to_pb(&k->attrs, &attrs) != 0)
        return -1;
    op.key_name = (char *)k->name;
    op.attributes = attrs;
    op.data.data = (uint8_t *)k->material;
    op.data.len = k->len;
    rc = fuzz_request_build(PSC_PROVIDER_MBED_CRYPTO, PSC_OP_PSA_IMPORT_KEY, FUZZ_APP, &op.base,
                            out, len);
    protobuf_c_message_free_unpacked(&attrs->base, NULL);
    return rc;
}

int fuzz_request_destroy(uint8_t provider, const char *app, const char *name, uint8_t **out,
                         size_t *len)
{
    PsaDestroyKey__Operation op = PSA_DESTROY_KEY__OPERATION__INIT;
    op.key_name = (char *)name;
    return fuzz_request_build(provider, PSC_OP_PSA_DESTROY_KEY, app, &op.base, out, len);
}
