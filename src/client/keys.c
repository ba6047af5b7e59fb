/* Key management operations and CanDoCrypto (operations.md §5, §7). */
#include <stddef.h>
#include <stdlib.h>

#include "can_do_crypto.pb-c.h"
#include "client/client_int.h"
#include "psa/convert.h"
#include "psa_destroy_key.pb-c.h"
#include "psa_export_key.pb-c.h"
#include "psa_export_public_key.pb-c.h"
#include "psa_generate_key.pb-c.h"
#include "psa_import_key.pb-c.h"

static int attrs_to_pb(const struct parsec_key_attributes *in,
                       PsaKeyAttributes__KeyAttributes **out)
{
    *out = NULL;
    if (!in)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    struct psc_attrs a = {.type = in->type, .bits = in->bits, .usage = in->usage, .alg = in->alg};
    return cl_conv_error(conv_attrs_to_pb(&a, out));
}

static void attrs_free(PsaKeyAttributes__KeyAttributes *m)
{
    if (m)
        protobuf_c_message_free_unpacked(&m->base, NULL);
}

int parsec_generate_key(struct parsec_client *c, const char *name,
                        const struct parsec_key_attributes *attributes)
{
    PsaGenerateKey__Operation op = PSA_GENERATE_KEY__OPERATION__INIT;
    int rc = cl_check_name(name);
    if (rc == 0)
        rc = attrs_to_pb(attributes, &op.attributes);
    if (rc == 0) {
        op.key_name = (char *)name;
        rc = cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_GENERATE_KEY, &op.base, NULL, NULL);
    }
    attrs_free(op.attributes);
    return rc;
}

int parsec_import_key(struct parsec_client *c, const char *name,
                      const struct parsec_key_attributes *attributes, const uint8_t *data,
                      size_t data_len)
{
    PsaImportKey__Operation op = PSA_IMPORT_KEY__OPERATION__INIT;
    int rc = cl_check_name(name);
    if (rc == 0)
        rc = cl_check_buf(data, data_len);
    if (rc == 0)
        rc = attrs_to_pb(attributes, &op.attributes);
    if (rc == 0) {
        op.key_name = (char *)name;
        op.data.data = (uint8_t *)data;
        op.data.len = data_len;
        rc = cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_IMPORT_KEY, &op.base, NULL, NULL);
    }
    attrs_free(op.attributes);
    return rc;
}

int parsec_destroy_key(struct parsec_client *c, const char *name)
{
    PsaDestroyKey__Operation op = PSA_DESTROY_KEY__OPERATION__INIT;
    int rc = cl_check_name(name);
    if (rc != 0)
        return rc;
    op.key_name = (char *)name;
    return cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_PSA_DESTROY_KEY, &op.base, NULL, NULL);
}

int parsec_export_public_key(struct parsec_client *c, const char *name, uint8_t *out,
                             size_t out_size, size_t *out_len)
{
    PsaExportPublicKey__Operation op = PSA_EXPORT_PUBLIC_KEY__OPERATION__INIT;
    int rc = cl_check_name(name);
    if (rc != 0)
        return rc;
    op.key_name = (char *)name;
    return cl_call_out(c, PARSEC_OP_PSA_EXPORT_PUBLIC_KEY, &op.base,
                       &psa_export_public_key__result__descriptor,
                       offsetof(PsaExportPublicKey__Result, data), out, out_size, out_len);
}

int parsec_export_key(struct parsec_client *c, const char *name, uint8_t *out, size_t out_size,
                      size_t *out_len)
{
    PsaExportKey__Operation op = PSA_EXPORT_KEY__OPERATION__INIT;
    int rc = cl_check_name(name);
    if (rc != 0)
        return rc;
    op.key_name = (char *)name;
    return cl_call_out(c, PARSEC_OP_PSA_EXPORT_KEY, &op.base, &psa_export_key__result__descriptor,
                       offsetof(PsaExportKey__Result, data), out, out_size, out_len);
}

int parsec_can_do_crypto(struct parsec_client *c, int check_type,
                         const struct parsec_key_attributes *attributes)
{
    CanDoCrypto__Operation op = CAN_DO_CRYPTO__OPERATION__INIT;
    if (check_type < PARSEC_CHECK_USE || check_type > PARSEC_CHECK_DERIVE)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    int rc = attrs_to_pb(attributes, &op.attributes);
    if (rc == 0) {
        op.check_type = (CanDoCrypto__CheckType)check_type;
        rc = cl_call(c, CL_ROUTE_CRYPTO, PARSEC_OP_CAN_DO_CRYPTO, &op.base, NULL, NULL);
    }
    attrs_free(op.attributes);
    return rc;
}
