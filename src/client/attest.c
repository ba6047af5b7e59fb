/* TPM key attestation with ActivateCredential (operations.md §8): PrepareKeyAttestation and
 * AttestKey, always sent to the TPM provider, as the original client's helpers are. */
#include <string.h>

#include "attest_key.pb-c.h"
#include "client/client_int.h"
#include "prepare_key_attestation.pb-c.h"

/* The original asks the service first and refuses with NoProvider when the TPM provider is
 * not there, rather than letting the service answer ProviderNotRegistered. */
static int tpm_listed(struct parsec_client *c)
{
    struct parsec_provider_info *p = NULL;
    size_t n = 0;
    int rc = parsec_list_providers(c, &p, &n);
    if (rc != 0)
        return rc;
    rc = PARSEC_ERROR_NO_PROVIDER;
    for (size_t i = 0; i < n; i++)
        if (p[i].id == PARSEC_PROVIDER_TPM)
            rc = 0;
    parsec_provider_info_free(p, n);
    return rc;
}

/* NULL is the default attesting key, sent as the empty name (the wire cannot tell them apart). */
static int attesting_name(const char *name, char **wire)
{
    *wire = (char *)(name ? name : "");
    return name ? cl_check_name(name) : 0;
}

int parsec_prepare_activate_credential(struct parsec_client *c, const char *key_name,
                                       const char *attesting_key_name, uint8_t *name,
                                       size_t name_size, size_t *name_len, uint8_t *public_area,
                                       size_t public_size, size_t *public_len,
                                       uint8_t *attesting_key_pub, size_t pub_size, size_t *pub_len)
{
    PrepareKeyAttestation__PrepareKeyAttestationParams__ActivateCredential ac =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    PrepareKeyAttestation__PrepareKeyAttestationParams params =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__INIT;
    PrepareKeyAttestation__Operation op = PREPARE_KEY_ATTESTATION__OPERATION__INIT;
    PrepareKeyAttestation__Result *r = NULL;
    const PrepareKeyAttestation__PrepareKeyAttestationOutput__ActivateCredential *o;
    int rc;

    if (!name_len || !public_len || !pub_len)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    /* A failed call leaves no stale length behind. */
    *name_len = *public_len = *pub_len = 0;
    if ((rc = cl_check_name(key_name)) != 0 ||
        (rc = attesting_name(attesting_key_name, &ac.attesting_key_name)) != 0)
        return rc;
    if ((rc = tpm_listed(c)) != 0)
        return rc;
    ac.attested_key_name = (char *)key_name;
    params.mechanism_case =
        PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    params.activate_credential = &ac;
    op.parameters = &params;
    rc = cl_call(c, CL_ROUTE_TPM, PARSEC_OP_PREPARE_KEY_ATTESTATION, &op.base,
                 &prepare_key_attestation__result__descriptor, (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (!r->output ||
        r->output->mechanism_case !=
            PREPARE_KEY_ATTESTATION__PREPARE_KEY_ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL ||
        !r->output->activate_credential) {
        rc = PARSEC_ERROR_ENCODING;
        goto out;
    }
    o = r->output->activate_credential;
    /* All three lengths are reported, and nothing written unless all three fit. */
    *name_len = o->name.len;
    *public_len = o->public_.len;
    *pub_len = o->attesting_key_pub.len;
    if (o->name.len > name_size || (!name && o->name.len) || o->public_.len > public_size ||
        (!public_area && o->public_.len) || o->attesting_key_pub.len > pub_size ||
        (!attesting_key_pub && o->attesting_key_pub.len)) {
        rc = PARSEC_ERROR_BUFFER_TOO_SMALL;
        goto out;
    }
    if (o->name.len)
        memcpy(name, o->name.data, o->name.len);
    if (o->public_.len)
        memcpy(public_area, o->public_.data, o->public_.len);
    if (o->attesting_key_pub.len)
        memcpy(attesting_key_pub, o->attesting_key_pub.data, o->attesting_key_pub.len);
out:
    if (rc != 0 && rc != PARSEC_ERROR_BUFFER_TOO_SMALL)
        *name_len = *public_len = *pub_len = 0;
    cl_result_free(&r->base);
    return rc;
}

int parsec_activate_credential(struct parsec_client *c, const char *key_name,
                               const char *attesting_key_name, const uint8_t *credential_blob,
                               size_t blob_len, const uint8_t *secret, size_t secret_len,
                               uint8_t *out, size_t out_size, size_t *out_len)
{
    AttestKey__AttestationMechanismParams__ActivateCredential ac =
        ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__ACTIVATE_CREDENTIAL__INIT;
    AttestKey__AttestationMechanismParams params = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__INIT;
    AttestKey__Operation op = ATTEST_KEY__OPERATION__INIT;
    AttestKey__Result *r = NULL;
    int rc;

    if (!out_len)
        return PARSEC_ERROR_INVALID_ARGUMENT;
    *out_len = 0;
    if ((rc = cl_check_name(key_name)) != 0 ||
        (rc = attesting_name(attesting_key_name, &op.attesting_key_name)) != 0 ||
        (rc = cl_check_buf(credential_blob, blob_len)) != 0 ||
        (rc = cl_check_buf(secret, secret_len)) != 0)
        return rc;
    if ((rc = tpm_listed(c)) != 0)
        return rc;
    ac.credential_blob.data = (uint8_t *)credential_blob;
    ac.credential_blob.len = blob_len;
    ac.secret.data = (uint8_t *)secret;
    ac.secret.len = secret_len;
    params.mechanism_case = ATTEST_KEY__ATTESTATION_MECHANISM_PARAMS__MECHANISM_ACTIVATE_CREDENTIAL;
    params.activate_credential = &ac;
    op.attested_key_name = (char *)key_name;
    op.parameters = &params;
    /* cl_call wipes the request and reply buffers, cl_result_free the unpacked credential. */
    rc = cl_call(c, CL_ROUTE_TPM, PARSEC_OP_ATTEST_KEY, &op.base, &attest_key__result__descriptor,
                 (ProtobufCMessage **)&r);
    if (rc != 0)
        return rc;
    if (!r->output ||
        r->output->mechanism_case !=
            ATTEST_KEY__ATTESTATION_OUTPUT__MECHANISM_ACTIVATE_CREDENTIAL ||
        !r->output->activate_credential)
        rc = PARSEC_ERROR_ENCODING;
    else
        rc = cl_copy_out(&r->output->activate_credential->credential, out, out_size, out_len);
    cl_result_free(&r->base);
    return rc;
}
