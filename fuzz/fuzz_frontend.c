/* The whole front end (src/service/frontend.h) of a real service: header checks,
 * authentication, routing, body decoding, the core and Mbed Crypto providers, the SQLite key
 * store. This is what a hostile local client reaches.
 *
 * Input: a request as it arrives on the socket: the 36-byte header (zero-padded if the input is
 * shorter), then the body and the auth field, each as long as the header says or as what is
 * left of the input. A header the listener would refuse gets the generic reply, as the listener
 * sends it.
 *
 * The service is built once, from a configuration text, in a private temporary folder (on
 * /dev/shm when it exists, so that SQLite's syncs cost nothing): Direct authenticator with the
 * admin FUZZ_ADMIN, SQLite key mappings, Mbed Crypto keys. It holds the keys of fuzz_keys.h,
 * which the seeds use. Every key an input creates is destroyed again through the service, and
 * the fixed keys are restored after anything that may have removed them, so that each input
 * runs against the same state and a crash reproduces from its input alone.
 *
 * Invariants: a reply always comes, is 36 bytes plus its body, decodes as a reply header with a
 * defined status equal to the one returned, echoes the request (or is the generic reply for a
 * header-level refusal), carries a body only on success and then one that decodes as the
 * operation's Result; no request runs out of memory; a key the service just created can be
 * destroyed by its owner; neither the key store nor the key folder grows.
 *
 * Slow by nature and skipped: generating RSA keys above 1024 bits (seconds each under
 * AddressSanitizer, and all of it inside Mbed TLS). */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "fuzz_check.h"
#include "fuzz_keys.h"
#include "fuzz_request.h"
#include "service/codec.h"
#include "service/config.h"
#include "service/frontend.h"
#include "service/kim/kim.h"
#include "service/service.h"
#include "wire/opcode.h"
#include "wire/status.h"

/* Largest RSA key the target lets the service generate (see above). */
#define FUZZ_RSA_GENERATE_BITS_MAX 1024
/* How often the key store and key folder are counted. */
#define FUZZ_STATE_CHECK_EVERY 512

static struct psc_service *svc;
static char state_dir[256];
static char keys_dir[300];
static unsigned long runs;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    service_free(svc);
    svc = NULL;
    if (state_dir[0]) {
        if (chdir("/") != 0)
            return;
        nftw(state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* Sends one well-formed request built by the target itself; returns its status. */
static int send_raw(const uint8_t *req, size_t len)
{
    struct fe_request rq = {0};
    uint8_t *reply = NULL;
    size_t reply_len = 0;

    FUZZ_CHECK(len >= PSC_WIRE_HEADER_SIZE);
    FUZZ_CHECK(psc_header_decode_full(req, &rq.h) == 0);
    FUZZ_CHECK(len == PSC_WIRE_HEADER_SIZE + rq.h.body_len + rq.h.auth_len);
    rq.body = req + PSC_WIRE_HEADER_SIZE;
    rq.auth = rq.body + rq.h.body_len;
    int rc = frontend_handle(svc, &rq, &reply, &reply_len);
    FUZZ_CHECK(rc >= 0);
    free(reply);
    return rc;
}

static void provision(void)
{
    for (size_t i = 0; i < FUZZ_N_KEYS; i++) {
        uint8_t *req = NULL;
        size_t len = 0;
        FUZZ_CHECK(fuzz_request_import(&fuzz_keys[i], &req, &len) == 0);
        int rc = send_raw(req, len);
        if (rc != 0 && rc != PSC_PSA_ALREADY_EXISTS)
            fprintf(stderr, "fuzz_frontend: importing %s: status %d\n", fuzz_keys[i].name, rc);
        FUZZ_CHECK(rc == 0 || rc == PSC_PSA_ALREADY_EXISTS);
        free(req);
    }
}

static size_t count_key_files(void)
{
    size_t n = 0;
    DIR *d = opendir(keys_dir);
    FUZZ_CHECK(d != NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void check_state(void)
{
    struct kim_entry *e = NULL;
    size_t n = 0;
    FUZZ_CHECK(kim_list_all(svc->kims[0], &e, &n) == 0);
    if (n > FUZZ_N_KEYS)
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "mapping left: app \"%s\" key \"%s\"\n", e[i].app, e[i].key_name);
    FUZZ_CHECK(n <= FUZZ_N_KEYS);
    kim_entries_free(e, n);
    size_t files = count_key_files();
    if (files > FUZZ_N_KEYS)
        fprintf(stderr, "%zu files in the key folder for %zu keys\n", files, FUZZ_N_KEYS);
    FUZZ_CHECK(files <= FUZZ_N_KEYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char cfg_text[2048], err[512] = "";
    struct config cfg;
    (void)argc;
    (void)argv;

    log_set_level(getenv("PARSEC_FUZZ_LOG") ? LOG_TRACE : LOG_OFF);
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(state_dir, sizeof(state_dir), "%s/parsec-fuzz-XXXXXX", base ? base : "/tmp");
    FUZZ_CHECK(mkdtemp(state_dir) != NULL);
    snprintf(keys_dir, sizeof(keys_dir), "%s/keys", state_dir);
    atexit(cleanup);

    int n = snprintf(cfg_text, sizeof(cfg_text),
                     "[core_settings]\n"
                     "allow_root = true\n"
                     "buffer_size_limit = 65536\n"
                     "[listener]\n"
                     "listener_type = \"DomainSocket\"\n"
                     "timeout = 200\n"
                     "socket_path = \"%s/parsec.sock\"\n"
                     "[authenticator]\n"
                     "auth_type = \"Direct\"\n"
                     "admins = [ { name = \"" FUZZ_ADMIN "\" } ]\n"
                     "[[key_manager]]\n"
                     "name = \"sqlite-manager\"\n"
                     "manager_type = \"SQLite\"\n"
                     "sqlite_db_path = \"%s/kim.sqlite3\"\n"
                     "[[provider]]\n"
                     "provider_type = \"MbedCrypto\"\n"
                     "key_info_manager = \"sqlite-manager\"\n"
                     "key_store_path = \"%s\"\n",
                     state_dir, state_dir, keys_dir);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(cfg_text));
    memset(&cfg, 0, sizeof(cfg));
    if (config_parse("fuzz-config.toml", cfg_text, (size_t)n, &cfg, err, sizeof(err)) != 0 ||
        service_build(&cfg, &svc, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_frontend: cannot build the service: %s\n", err);
        abort();
    }
    provision();
    return 0;
}

/* The listener's part: preamble and header decoding. Returns 0 with *h decoded, or the status
 * of the generic reply the listener sends. */
static int read_header(const uint8_t *data, size_t size, struct psc_header *h)
{
    uint8_t raw[PSC_WIRE_HEADER_SIZE] = {0};
    uint16_t rest = 0;
    memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
    int rc = psc_header_check_preamble(raw, &rest);
    if (rc == 0 && rest != PSC_WIRE_HEADER_REST)
        rc = PSC_INVALID_HEADER;
    if (rc == 0)
        rc = psc_header_decode(raw + PSC_WIRE_PREAMBLE_SIZE, PSC_WIRE_HEADER_REST, h);
    return rc;
}

static int is_header_status(int rc)
{
    return rc == PSC_CONTENT_TYPE_NOT_SUPPORTED || rc == PSC_ACCEPT_TYPE_NOT_SUPPORTED ||
           rc == PSC_AUTHENTICATOR_DOES_NOT_EXIST || rc == PSC_OPCODE_DOES_NOT_EXIST ||
           rc == PSC_PROVIDER_DOES_NOT_EXIST;
}

static void check_reply(const struct fe_request *rq, int rc, const uint8_t *reply, size_t reply_len)
{
    struct psc_header r;
    FUZZ_CHECK(rc >= 0 && reply != NULL && reply_len >= PSC_WIRE_HEADER_SIZE);
    FUZZ_CHECK(psc_header_decode_full(reply, &r) == 0);
    FUZZ_CHECK(r.status == rc && psc_status_is_valid(rc));
    FUZZ_CHECK(r.body_len == reply_len - PSC_WIRE_HEADER_SIZE);
    FUZZ_CHECK(r.auth_len == 0 && r.auth_type == 0 && r.flags == 0 && r.accept_type == 0);
    FUZZ_CHECK(rc == 0 || r.body_len == 0);
    /* Nothing here is large enough to exhaust memory (inputs are a few KiB, random output is
     * capped at 64 KiB), and Mbed TLS's key slots are reused: this status is a bug. */
    FUZZ_CHECK(rc != PSC_PSA_INSUFFICIENT_MEMORY);
    int echo = r.provider == rq->h.provider && r.session == rq->h.session &&
               r.opcode == rq->h.opcode && r.content_type == rq->h.accept_type;
    int generic = r.provider == 0 && r.session == 0 && r.opcode == PSC_OP_PING &&
                  r.content_type == 0 && is_header_status(rc);
    FUZZ_CHECK(echo || generic);
    if (rc == 0) {
        const ProtobufCMessageDescriptor *d = codec_result_desc(rq->h.opcode);
        FUZZ_CHECK(d != NULL);
        ProtobufCMessage *m =
            protobuf_c_message_unpack(d, NULL, r.body_len, reply + PSC_WIRE_HEADER_SIZE);
        FUZZ_CHECK(m != NULL);
        protobuf_c_message_free_unpacked(m, NULL);
    }
}

/* The name of the key a create request names (malloc'd); NULL if the body does not decode
 * (then the request cannot have succeeded). */
static char *request_key_name(const struct fe_request *rq)
{
    struct psc_args args;
    ProtobufCMessage *msg = NULL;
    char *name = NULL;
    if (codec_decode_args(rq->h.opcode, rq->body, rq->h.body_len, &args, &msg) == 0) {
        name = strdup(args.key_name);
        FUZZ_CHECK(name != NULL);
        protobuf_c_message_free_unpacked(msg, NULL);
    }
    return name;
}

static int is_fixed(const char *app, const char *name)
{
    if (strcmp(app, FUZZ_APP) != 0)
        return 0;
    for (size_t i = 0; i < FUZZ_N_KEYS; i++)
        if (strcmp(fuzz_keys[i].name, name) == 0)
            return 1;
    return 0;
}

/* Puts the service back in its initial state after a request that changed it. */
static void housekeeping(const struct fe_request *rq, int rc)
{
    uint32_t op = rq->h.opcode;
    if (rc != 0)
        return;
    if (op == PSC_OP_PSA_GENERATE_KEY || op == PSC_OP_PSA_IMPORT_KEY) {
        /* Creating a key needs an authenticated application: Direct, here. */
        FUZZ_CHECK(rq->h.auth_type == PSC_AUTH_DIRECT && rq->h.auth_len > 0);
        char *app = strndup((const char *)rq->auth, rq->h.auth_len);
        char *name = request_key_name(rq);
        uint8_t *req = NULL;
        size_t len = 0;
        FUZZ_CHECK(app != NULL && name != NULL);
        FUZZ_CHECK(fuzz_request_destroy(rq->h.provider, app, name, &req, &len) == 0);
        int drc = send_raw(req, len);
        if (drc != 0)
            fprintf(stderr, "destroying key \"%s\" of \"%s\" just created: status %d\n", name, app,
                    drc);
        FUZZ_CHECK(drc == 0);
        int fixed = is_fixed(app, name);
        free(req);
        free(name);
        free(app);
        if (fixed)
            provision();
    } else if (op == PSC_OP_PSA_DESTROY_KEY || op == PSC_OP_DELETE_CLIENT) {
        provision();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fe_request rq = {0};
    uint8_t *reply = NULL, *body = NULL, *auth = NULL;
    size_t reply_len = 0;

    int hrc = read_header(data, size, &rq.h);
    if (hrc != 0) {
        uint8_t generic[PSC_WIRE_HEADER_SIZE];
        struct psc_header r;
        frontend_generic_reply(hrc, generic);
        FUZZ_CHECK(psc_header_decode_full(generic, &r) == 0 && r.status == hrc);
        FUZZ_CHECK(psc_status_is_valid(r.status) && r.body_len == 0);
        return 0;
    }

    /* Body and auth field as long as the header says, or as what is left; each in a buffer of
     * its own exact size so that a read past either one is seen. */
    size_t left = size > PSC_WIRE_HEADER_SIZE ? size - PSC_WIRE_HEADER_SIZE : 0;
    size_t blen = rq.h.body_len < left ? rq.h.body_len : left;
    size_t alen = rq.h.auth_len < left - blen ? rq.h.auth_len : left - blen;
    body = malloc(blen ? blen : 1);
    auth = malloc(alen ? alen : 1);
    FUZZ_CHECK(body != NULL && auth != NULL);
    if (blen)
        memcpy(body, data + PSC_WIRE_HEADER_SIZE, blen);
    if (alen)
        memcpy(auth, data + PSC_WIRE_HEADER_SIZE + blen, alen);
    rq.h.body_len = (uint32_t)blen;
    rq.h.auth_len = (uint16_t)alen;
    rq.body = body;
    rq.auth = auth;
    rq.peer = NULL;

    int ret = 0;
    if (rq.h.opcode == PSC_OP_PSA_GENERATE_KEY && rq.h.provider != PSC_PROVIDER_CORE) {
        struct psc_args args;
        ProtobufCMessage *msg = NULL;
        if (codec_decode_args(rq.h.opcode, body, blen, &args, &msg) == 0) {
            int slow = args.has_attrs && PSA_KEY_TYPE_IS_RSA(args.attrs.type) &&
                       args.attrs.bits > FUZZ_RSA_GENERATE_BITS_MAX;
            protobuf_c_message_free_unpacked(msg, NULL);
            if (slow) {
                ret = -1; /* not worth keeping in the corpus */
                goto out;
            }
        }
    }

    int rc = frontend_handle(svc, &rq, &reply, &reply_len);
    check_reply(&rq, rc, reply, reply_len);
    housekeeping(&rq, rc);
    if (++runs % FUZZ_STATE_CHECK_EVERY == 0)
        check_state();
out:
    free(reply);
    free(body);
    free(auth);
    return ret;
}
