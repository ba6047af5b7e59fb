/* The TPM provider's start-up: hierarchy passwords, the instances of the process, the identity
 * check (key-info-manager.md §5.1) and what it does after an owner-hierarchy clear.
 *
 * The root key is re-created at every start from the owner seed: its name, kept in the internal
 * mapping RootKeyTPM, changes only when the owner hierarchy was cleared or the service talks to
 * another TPM. The original refuses to start in both cases. Here the endorsement key's name is
 * kept too (internal mapping EndorsementKeyTPM, written once the root key is known to match):
 * the endorsement seed survives an owner clear, so a changed root key under the same endorsement
 * key is an owner clear. Its keys are then lost for good: each is reported once, its mapping
 * dropped, and the service starts. Another TPM (or no record of the endorsement key) still stops
 * the start, so that a wrong TCTI never costs the mappings. */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/log.h"
#include "service/kim/kim.h"
#include "service/providers/tpm_int.h"
#include "wire/opcode.h"
#include "wire/status.h"

static const char *const MOD = "parsec::providers::tpm";

#define TPM_EK_NAME_KEY "EndorsementKeyTPM"

/* A hierarchy password as the original reads it: "str:<text>", "hex:<hex digits>", or the
 * string itself. The value never appears in a message. */
int tpm_auth_parse(const char *s, const char *what, TPM2B_AUTH *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(s, "hex:", 4) == 0) {
        s += 4;
        size_t n = strlen(s);
        if (n % 2 != 0 || n / 2 > sizeof(out->buffer)) {
            snprintf(err, err_len,
                     "%s: the hex: value must have an even number of digits and "
                     "be at most %zu bytes",
                     what, sizeof(out->buffer));
            return -1;
        }
        if (hex_decode(s, n / 2, out->buffer) != 0) {
            explicit_bzero(out, sizeof(*out));
            snprintf(err, err_len, "%s: the hex: value has a character that is not a hex digit",
                     what);
            return -1;
        }
        out->size = (uint16_t)(n / 2);
        return 0;
    }
    if (strncmp(s, "str:", 4) == 0)
        s += 4;
    size_t n = strlen(s);
    if (n > sizeof(out->buffer)) {
        snprintf(err, err_len, "%s is longer than %zu bytes", what, sizeof(out->buffer));
        return -1;
    }
    memcpy(out->buffer, s, n);
    out->size = (uint16_t)n;
    return 0;
}

/* The instances of this process. A reload builds the new provider while the old one still
 * holds its objects, and destroys the old one afterwards: on a TPM without resource manager
 * the old one's objects fill the TPM, and its final flush would hit the handles the new one was
 * given meanwhile. So a new instance takes the TPM over: the old ones on the same TCTI close
 * their context without flushing (the new one flushes what they left), and reopen it if they
 * serve again (a reload that failed further on). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tpm_provider *live;

void tpm_live_take_over(const struct tpm_provider *t)
{
    pthread_mutex_lock(&live_lock);
    for (struct tpm_provider *o = live; o; o = o->next_live)
        if (o != t && strcmp(o->tcti_conf, t->tcti_conf) == 0) {
            pthread_mutex_lock(&o->lock);
            tpm_ctx_drop(o);
            pthread_mutex_unlock(&o->lock);
        }
    pthread_mutex_unlock(&live_lock);
}

void tpm_live_add(struct tpm_provider *t)
{
    pthread_mutex_lock(&live_lock);
    t->next_live = live;
    live = t;
    pthread_mutex_unlock(&live_lock);
}

void tpm_live_remove(struct tpm_provider *t)
{
    pthread_mutex_lock(&live_lock);
    for (struct tpm_provider **pp = &live; *pp; pp = &(*pp)->next_live)
        if (*pp == t) {
            *pp = t->next_live;
            break;
        }
    pthread_mutex_unlock(&live_lock);
}

static void internal_ident(const struct psc_provider *p, const char *key, struct kim_ident *who)
{
    const struct psc_app internal = {.name = "parsec", .auth = PSC_AUTH_INTERNAL};
    provider_ident(p, &internal, key, who);
}

/* A stored TPM name: a Vec<u8> (u64 length, bytes). Returns 0, PSC_PSA_DOES_NOT_EXIST, or
 * another status. */
static int name_get(const struct psc_provider *p, const char *key, TPM2B_NAME *out)
{
    struct kim_ident who;
    internal_ident(p, key, &who);
    struct kim_info info = {0};
    int rc = kim_get(p->kim, &who, &info);
    if (rc != 0)
        return rc;
    uint64_t n = 0;
    for (int i = 7; i >= 0 && info.id_len >= 8; i--)
        n = (n << 8) | info.id[i];
    if (info.id_len < 8 || n != info.id_len - 8 || n > sizeof(out->name)) {
        rc = PSC_KEY_INFO_MANAGER_ERROR;
    } else {
        out->size = (uint16_t)n;
        memcpy(out->name, info.id + 8, (size_t)n);
    }
    kim_info_clear(&info);
    return rc;
}

static int name_put(const struct psc_provider *p, const char *key, const TPM2B_NAME *n, int replace)
{
    struct kim_ident who;
    internal_ident(p, key, &who);
    uint8_t id[8 + sizeof(n->name)];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)((uint64_t)n->size >> (8 * i));
    memcpy(id + 8, n->name, n->size);
    /* What the original stores with its root key's name. */
    struct kim_info info = {.id = id,
                            .id_len = 8 + (size_t)n->size,
                            .attrs = {.type = PSA_KEY_TYPE_RSA_PUBLIC_KEY, .bits = 2048}};
    return replace ? kim_replace(p->kim, &who, &info) : kim_insert(p->kim, &who, &info);
}

static int name_eq(const TPM2B_NAME *a, const TPM2B_NAME *b)
{
    return a->size == b->size && memcmp(a->name, b->name, a->size) == 0;
}

/* Records the endorsement key's name if it is not yet: a start-up that cannot (an endorsement
 * password the configuration lacks) only loses the owner-clear recovery. */
static void ek_remember(struct tpm_provider *t)
{
    TPM2B_NAME n;
    if (name_get(&t->base, TPM_EK_NAME_KEY, &n) != PSC_PSA_DOES_NOT_EXIST)
        return;
    TSS2_RC rc = tpm_ek_name(t, &n);
    if (rc != TSS2_RC_SUCCESS) {
        log_warn(MOD,
                 "cannot read the endorsement key (0x%x): after an owner-hierarchy clear the "
                 "service will not start until the key mappings are removed",
                 (unsigned)rc);
        return;
    }
    if (name_put(&t->base, TPM_EK_NAME_KEY, &n, 0) != 0)
        log_warn(MOD, "cannot store the endorsement key's name");
}

/* The keys made under the old root key are gone: each is reported and its mapping dropped.
 * Imported public keys do not depend on the root key and stay. A legacy blob (a saved context,
 * key-info-manager.md §4.2) is gone too, a public key's included: the TPM refuses every context
 * saved before the owner clear. */
static int drop_lost_keys(struct psc_provider *p, char *err, size_t err_len)
{
    struct kim_entry *e = NULL;
    size_t n = 0, lost = 0;
    int rc = kim_list(p->kim, p->type->id, p->type->uuid, p->name, NULL, 0, &e, &n);
    if (rc != 0) {
        snprintf(err, err_len, "cannot list the key mappings (status %d)", rc);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct tpm_key k;
        struct tpm_legacy lg;
        int gone;
        if (tpm_key_decode(e[i].info.id, e[i].info.id_len, &k) == 0) {
            gone = k.priv.size != 0;
            tpm_key_wipe(&k);
        } else {
            gone = tpm_legacy_decode(e[i].info.id, e[i].info.id_len, &lg) == 0;
            tpm_legacy_wipe(&lg);
        }
        if (!gone)
            continue;
        struct kim_ident who = {.app = e[i].app,
                                .auth = e[i].auth,
                                .provider_id = e[i].provider_id,
                                .provider_uuid = e[i].provider_uuid,
                                .provider_name = e[i].provider_name,
                                .key_name = e[i].key_name};
        log_error(MOD,
                  "key \"%s\" of \"%s\" was lost with the TPM's owner hierarchy: its mapping is "
                  "removed",
                  e[i].key_name, e[i].app);
        rc = kim_remove(p->kim, &who);
        if (rc != 0 && rc != PSC_PSA_DOES_NOT_EXIST) {
            snprintf(err, err_len, "cannot remove a lost key's mapping (status %d)", rc);
            kim_entries_free(e, n);
            return -1;
        }
        lost++;
    }
    kim_entries_free(e, n);
    log_warn(MOD, "the TPM's owner hierarchy was cleared: %zu keys were lost", lost);
    return 0;
}

int tpm_root_check(struct tpm_provider *t, char *err, size_t err_len)
{
    struct psc_provider *p = &t->base;
    TPM2B_NAME stored, ek_stored, ek_now;
    int rc = name_get(p, TPM_ROOT_KEY_NAME, &stored);
    if (rc == PSC_PSA_DOES_NOT_EXIST) {
        if ((rc = name_put(p, TPM_ROOT_KEY_NAME, &t->root_name, 0)) != 0) {
            snprintf(err, err_len, "cannot store the root key's name (status %d)", rc);
            return -1;
        }
        ek_remember(t);
        return 0;
    }
    if (rc != 0) {
        snprintf(err, err_len, "cannot read the root key's name (status %d)", rc);
        return -1;
    }
    if (name_eq(&stored, &t->root_name)) {
        ek_remember(t);
        return 0;
    }
    /* Same endorsement key, other root key: the owner hierarchy was cleared. The mappings are
     * dropped before the new root key's name is stored: a crash in between repeats this. */
    if (name_get(p, TPM_EK_NAME_KEY, &ek_stored) != 0 ||
        tpm_ek_name(t, &ek_now) != TSS2_RC_SUCCESS || !name_eq(&ek_stored, &ek_now)) {
        snprintf(err, err_len,
                 "Obtained Root Key name does not coincide with the stored one (this is another "
                 "TPM, or its owner hierarchy was cleared): the stored keys cannot be loaded");
        return -1;
    }
    if (drop_lost_keys(p, err, err_len) != 0)
        return -1;
    if ((rc = name_put(p, TPM_ROOT_KEY_NAME, &t->root_name, 1)) != 0) {
        snprintf(err, err_len, "cannot store the root key's name (status %d)", rc);
        return -1;
    }
    return 0;
}
