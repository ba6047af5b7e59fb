/* The authenticators (src/service/auth/auth.h) on arbitrary auth fields and peer credentials.
 *
 * Input: byte 0 picks the configured authenticator type (0-4 and one undefined value), bytes
 * 1-4 are the peer's uid (little-endian), byte 5 says whether the peer is known, the rest is
 * the request's auth field. Invariants, checked against an independent statement of
 * wire-protocol.md §8: Direct accepts exactly the non-empty well-formed UTF-8 without NUL and
 * names the application by those bytes; UnixPeerCredentials accepts exactly a 4-byte uid equal
 * to the peer's and names it in decimal; nothing else authenticates; no name on failure;
 * admin status is exact string equality with a configured admin. */
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_utf8.h"
#include "service/auth/auth.h"
#include "wire/opcode.h"
#include "wire/status.h"

static char *admins[] = {"admin", "1000", "0", "\xc3\xa9t\xc3\xa9", "a"};

static void check_admin(const struct cfg_authenticator *cfg, const struct psc_auth *a,
                        const char *name)
{
    int expect = 0;
    for (size_t i = 0; i < cfg->n_admins; i++)
        expect |= strcmp(cfg->admins[i], name) == 0;
    FUZZ_CHECK(auth_is_admin(a, name) == expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t types[] = {PSC_AUTH_NONE,     PSC_AUTH_DIRECT,
                                    PSC_AUTH_JWT,      PSC_AUTH_UNIX_PEER_CREDENTIALS,
                                    PSC_AUTH_JWT_SVID, 200};
    struct cfg_authenticator cfg = {0};
    struct peer_cred peer = {0};
    char err[256] = "";
    char *name = (char *)"not touched";

    if (size < 6)
        return 0;
    cfg.type = types[data[0] % sizeof(types)];
    cfg.auth_type = (char *)"fuzz";
    cfg.admins = admins;
    cfg.n_admins = data[0] / sizeof(types) % (sizeof(admins) / sizeof(admins[0]) + 1);
    peer.uid = (uid_t)((uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                       (uint32_t)data[4] << 24);
    peer.gid = 1;
    peer.pid = 2;
    const struct peer_cred *pp = data[5] & 1 ? &peer : NULL;
    const uint8_t *auth = data + 6;
    size_t len = size - 6;

    /* A JWT-SVID authenticator needs a Workload API: fuzz_jwtsvid covers it. */
    struct psc_auth *a = NULL;
    int supported = auth_new(&cfg, 1, &a, err, sizeof(err)) == 0;
    FUZZ_CHECK(supported ==
               (cfg.type == PSC_AUTH_DIRECT || cfg.type == PSC_AUTH_UNIX_PEER_CREDENTIALS));
    FUZZ_CHECK(supported || (err[0] != '\0' && memchr(err, 0, sizeof(err)) != NULL));
    FUZZ_CHECK(auth_description(cfg.type) != NULL);
    if (!supported)
        return 0;
    FUZZ_CHECK(auth_type(a) == cfg.type);

    int rc = auth_authenticate(a, auth, len, pp, &name);
    FUZZ_CHECK(rc == 0 ? name != NULL : name == NULL);
    FUZZ_CHECK(rc == 0 || rc == PSC_AUTHENTICATION_ERROR || rc == PSC_INVALID_ENCODING);

    switch (cfg.type) {
    case PSC_AUTH_DIRECT: {
        int ok = len > 0 && utf8_wellformed(auth, len) && memchr(auth, 0, len) == NULL;
        FUZZ_CHECK((rc == 0) == ok);
        if (ok)
            FUZZ_CHECK(strlen(name) == len && memcmp(name, auth, len) == 0);
        break;
    }
    case PSC_AUTH_UNIX_PEER_CREDENTIALS: {
        int ok = len == 4 && pp != NULL && memcmp(auth, data + 1, 4) == 0;
        FUZZ_CHECK((rc == 0) == ok);
        if (ok) {
            char dec[16];
            snprintf(dec, sizeof(dec), "%u", (unsigned)peer.uid);
            FUZZ_CHECK(strcmp(name, dec) == 0);
        }
        break;
    }
    default:
        FUZZ_CHECK(0);
        break;
    }
    if (name)
        check_admin(&cfg, a, name);
    FUZZ_CHECK(auth_is_admin(a, NULL) == 0);
    free(name);
    auth_free(a);
    return 0;
}
