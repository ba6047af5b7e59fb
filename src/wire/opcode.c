#include "wire/opcode.h"

#include <stddef.h>

enum { OP_CORE = 1, OP_AUTH = 2, OP_ADMIN = 4 };

struct op_desc {
    const char *name;
    unsigned flags;
};

/* Indexed by opcode; a NULL name marks an undefined value. Flags follow wire-protocol.md §9. */
static const struct op_desc ops[PSC_OP_LIMIT] = {
    [PSC_OP_PING] = {"Ping", OP_CORE},
    [PSC_OP_PSA_GENERATE_KEY] = {"PsaGenerateKey", OP_AUTH},
    [PSC_OP_PSA_DESTROY_KEY] = {"PsaDestroyKey", OP_AUTH},
    [PSC_OP_PSA_SIGN_HASH] = {"PsaSignHash", OP_AUTH},
    [PSC_OP_PSA_VERIFY_HASH] = {"PsaVerifyHash", OP_AUTH},
    [PSC_OP_PSA_IMPORT_KEY] = {"PsaImportKey", OP_AUTH},
    [PSC_OP_PSA_EXPORT_PUBLIC_KEY] = {"PsaExportPublicKey", OP_AUTH},
    [PSC_OP_LIST_PROVIDERS] = {"ListProviders", OP_CORE},
    [PSC_OP_LIST_OPCODES] = {"ListOpcodes", OP_CORE},
    [PSC_OP_PSA_ASYMMETRIC_ENCRYPT] = {"PsaAsymmetricEncrypt", OP_AUTH},
    [PSC_OP_PSA_ASYMMETRIC_DECRYPT] = {"PsaAsymmetricDecrypt", OP_AUTH},
    [PSC_OP_PSA_EXPORT_KEY] = {"PsaExportKey", OP_AUTH},
    [PSC_OP_PSA_GENERATE_RANDOM] = {"PsaGenerateRandom", 0},
    [PSC_OP_LIST_AUTHENTICATORS] = {"ListAuthenticators", OP_CORE},
    [PSC_OP_PSA_HASH_COMPUTE] = {"PsaHashCompute", 0},
    [PSC_OP_PSA_HASH_COMPARE] = {"PsaHashCompare", 0},
    [PSC_OP_PSA_AEAD_ENCRYPT] = {"PsaAeadEncrypt", OP_AUTH},
    [PSC_OP_PSA_AEAD_DECRYPT] = {"PsaAeadDecrypt", OP_AUTH},
    [PSC_OP_PSA_RAW_KEY_AGREEMENT] = {"PsaRawKeyAgreement", OP_AUTH},
    [PSC_OP_PSA_CIPHER_ENCRYPT] = {"PsaCipherEncrypt", OP_AUTH},
    [PSC_OP_PSA_CIPHER_DECRYPT] = {"PsaCipherDecrypt", OP_AUTH},
    [PSC_OP_PSA_SIGN_MESSAGE] = {"PsaSignMessage", OP_AUTH},
    [PSC_OP_PSA_VERIFY_MESSAGE] = {"PsaVerifyMessage", OP_AUTH},
    [PSC_OP_LIST_KEYS] = {"ListKeys", OP_CORE | OP_AUTH},
    [PSC_OP_LIST_CLIENTS] = {"ListClients", OP_CORE | OP_AUTH | OP_ADMIN},
    [PSC_OP_DELETE_CLIENT] = {"DeleteClient", OP_CORE | OP_AUTH | OP_ADMIN},
    [PSC_OP_ATTEST_KEY] = {"AttestKey", OP_AUTH},
    [PSC_OP_PREPARE_KEY_ATTESTATION] = {"PrepareKeyAttestation", OP_AUTH},
    [PSC_OP_CAN_DO_CRYPTO] = {"CanDoCrypto", OP_AUTH},
};

static const struct op_desc *find(uint32_t opcode)
{
    if (opcode >= PSC_OP_LIMIT || ops[opcode].name == NULL)
        return NULL;
    return &ops[opcode];
}

int psc_opcode_is_valid(uint32_t opcode)
{
    return find(opcode) != NULL;
}

int psc_opcode_is_core(uint32_t opcode)
{
    const struct op_desc *d = find(opcode);
    return d && (d->flags & OP_CORE);
}

int psc_opcode_needs_auth(uint32_t opcode)
{
    const struct op_desc *d = find(opcode);
    return d && (d->flags & OP_AUTH);
}

int psc_opcode_is_admin(uint32_t opcode)
{
    const struct op_desc *d = find(opcode);
    return d && (d->flags & OP_ADMIN);
}

const char *psc_opcode_name(uint32_t opcode)
{
    const struct op_desc *d = find(opcode);
    return d ? d->name : NULL;
}
