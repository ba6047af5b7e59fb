/* Library, slot, token and session management of the PKCS#11 module. */
#include "p11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Environment variable naming the application for Direct authentication, when the service
 * runs the Direct authenticator (with Unix peer credentials the uid is the identity). */
#define P11_APP_NAME_ENV "PARSEC_PKCS11_APP_NAME"

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* Everything below is guarded by g_lock. */
static int g_initialized;
static pid_t g_pid; /* the process that called C_Initialize: a forked child must call it again */
static int g_slots_loaded;
static size_t g_n_slots;
static struct p11_slot *g_slots;
static size_t g_n_sessions;
static struct p11_session *g_sessions[P11_MAX_SESSIONS];
static CK_SESSION_HANDLE g_next_session;
struct p11_name {
    CK_SLOT_ID slot;
    char *name;
};
static size_t g_n_names, g_cap_names;
static struct p11_name *g_names;

void p11_pad(CK_UTF8CHAR *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n > size)
        n = size;
    memset(dst, ' ', size);
    memcpy(dst, src, n);
}

CK_RV p11_rv(int rc)
{
    switch (rc) {
    case PARSEC_SUCCESS:
        return CKR_OK;
    case PARSEC_ERROR_PSA_NOT_PERMITTED:
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    case PARSEC_ERROR_PSA_NOT_SUPPORTED:
    case PARSEC_ERROR_OPCODE_DOES_NOT_EXIST:
    case PARSEC_ERROR_DEPRECATED_PRIMITIVE:
        return CKR_MECHANISM_INVALID;
    case PARSEC_ERROR_PSA_INVALID_ARGUMENT:
    case PARSEC_ERROR_PSA_DATA_INVALID:
        return CKR_DATA_INVALID;
    case PARSEC_ERROR_PSA_INVALID_SIGNATURE:
        return CKR_SIGNATURE_INVALID;
    case PARSEC_ERROR_PSA_INVALID_PADDING:
        return CKR_ENCRYPTED_DATA_INVALID;
    case PARSEC_ERROR_PSA_DOES_NOT_EXIST:
    case PARSEC_ERROR_PSA_INVALID_HANDLE:
        return CKR_KEY_HANDLE_INVALID;
    case PARSEC_ERROR_PSA_ALREADY_EXISTS:
        return CKR_ATTRIBUTE_VALUE_INVALID;
    case PARSEC_ERROR_PSA_INSUFFICIENT_MEMORY:
    case PARSEC_ERROR_PSA_INSUFFICIENT_STORAGE:
        return CKR_DEVICE_MEMORY;
    case PARSEC_ERROR_NO_MEMORY:
        return CKR_HOST_MEMORY;
    case PARSEC_ERROR_BUFFER_TOO_SMALL:
    case PARSEC_ERROR_PSA_BUFFER_TOO_SMALL:
        return CKR_BUFFER_TOO_SMALL;
    case PARSEC_ERROR_INVALID_ARGUMENT:
        return CKR_ARGUMENTS_BAD;
    case PARSEC_ERROR_AUTHENTICATION_ERROR:
    case PARSEC_ERROR_NOT_AUTHENTICATED:
        return CKR_USER_NOT_LOGGED_IN;
    case PARSEC_ERROR_CONNECT:
    case PARSEC_ERROR_IO:
    case PARSEC_ERROR_TIMEOUT:
    case PARSEC_ERROR_PSA_COMMUNICATION_FAILURE:
    case PARSEC_ERROR_PSA_HARDWARE_FAILURE:
        return CKR_DEVICE_ERROR;
    default:
        return CKR_FUNCTION_FAILED;
    }
}

/* ---- initialisation and fork ---------------------------------------------------------------- */

static void atfork_prepare(void)
{
    pthread_mutex_lock(&g_lock);
}

static void atfork_release(void)
{
    pthread_mutex_unlock(&g_lock);
}

static void atfork_register(void)
{
    /* The lock is held across fork(), so the child's copy of the tables is consistent and its
     * g_lock usable; the child sees g_pid differ and acts as not initialised until it calls
     * C_Initialize, as PKCS#11 requires of a child. */
    pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static int live_locked(void)
{
    return g_initialized && g_pid == getpid();
}

static void session_free(struct p11_session *s)
{
    for (int k = 0; k < OP_COUNT; k++)
        p11_op_reset(&s->ops[k]);
    p11_keys_free(s);
    free(s->found);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Frees the library state. In a forked child (inherited) it is the parent's state: g_lock was
 * held across fork(), so the tables are consistent, but a session another parent thread was
 * using may be half-way through a change and is left alone (those threads do not exist in the
 * child, and nothing will use it again). */
static void state_clear_locked(int inherited)
{
    for (size_t i = 0; i < g_n_sessions; i++) {
        struct p11_session *s = g_sessions[i];
        if (inherited && s->refs > 1)
            continue;
        if (--s->refs == 0)
            session_free(s);
    }
    for (size_t i = 0; i < g_n_slots; i++)
        parsec_client_free(g_slots[i].client);
    free(g_slots);
    for (size_t i = 0; i < g_n_names; i++)
        free(g_names[i].name);
    free(g_names);
    memset(g_sessions, 0, sizeof(g_sessions));
    g_n_sessions = 0;
    g_slots = NULL;
    g_n_slots = 0;
    g_slots_loaded = 0;
    g_names = NULL;
    g_n_names = g_cap_names = 0;
    g_initialized = 0;
}

CK_RV C_Initialize(CK_VOID_PTR init_args)
{
    CK_RV rv = CKR_OK;
    pthread_once(&g_atfork_once, atfork_register);
    if (init_args != NULL) {
        CK_C_INITIALIZE_ARGS *a = init_args;
        int given = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) + (a->LockMutex != NULL) +
                    (a->UnlockMutex != NULL);
        if (a->pReserved != NULL || (given != 0 && given != 4))
            return CKR_ARGUMENTS_BAD;
        /* The module only knows the system's locks: an application that gives its own mutex
         * functions without allowing those cannot be served safely. */
        if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK))
            return CKR_CANT_LOCK;
    }
    pthread_mutex_lock(&g_lock);
    if (g_initialized && g_pid == getpid()) {
        rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
        goto out;
    }
    if (g_initialized)
        state_clear_locked(1);
    g_initialized = 1;
    g_pid = getpid();
    g_next_session = 1;
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_Finalize(CK_VOID_PTR reserved)
{
    CK_RV rv = CKR_OK;
    if (reserved != NULL)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&g_lock);
    if (!live_locked()) {
        rv = CKR_CRYPTOKI_NOT_INITIALIZED;
        goto out;
    }
    state_clear_locked(0);
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_GetInfo(CK_INFO_PTR info)
{
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&g_lock);
    if (!live_locked())
        rv = CKR_CRYPTOKI_NOT_INITIALIZED;
    pthread_mutex_unlock(&g_lock);
    if (rv != CKR_OK)
        return rv;
    if (info == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = CRYPTOKI_VERSION_MAJOR;
    info->cryptokiVersion.minor = CRYPTOKI_VERSION_MINOR;
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), P11_MANUFACTURER);
    p11_pad(info->libraryDescription, sizeof(info->libraryDescription), P11_LIBRARY_DESCRIPTION);
    info->libraryVersion.major = PARSEC_P11_VERSION_MAJOR;
    info->libraryVersion.minor = PARSEC_P11_VERSION_MINOR;
    return CKR_OK;
}

/* ---- slots ---------------------------------------------------------------------------------- */

static int new_client(struct parsec_client **c, unsigned flags, int provider)
{
    struct parsec_client_config cfg = {
        .app_name = getenv(P11_APP_NAME_ENV), .flags = flags, .provider = provider};
    return parsec_client_new(c, &cfg);
}

/* Asks the service for its providers, once per C_Initialize. A service that cannot be reached,
 * or that the module cannot authenticate to, gives no slot now and is asked again at the next
 * C_GetSlotList. */
static CK_RV slots_load_locked(void)
{
    struct parsec_client *boot = NULL;
    struct parsec_provider_info *provs = NULL;
    size_t n = 0;
    CK_RV rv = CKR_OK;

    if (g_slots_loaded)
        return CKR_OK;
    if (new_client(&boot, PARSEC_CLIENT_NAKED, 0) != PARSEC_SUCCESS ||
        parsec_list_providers(boot, &provs, &n) != PARSEC_SUCCESS)
        goto out; /* no service: no slot, not an error */
    g_slots = calloc(n ? n : 1, sizeof(*g_slots));
    if (g_slots == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct p11_slot *sl = &g_slots[g_n_slots];
        if (provs[i].id == PARSEC_PROVIDER_CORE)
            continue;
        if (new_client(&sl->client, PARSEC_CLIENT_SET_PROVIDER, provs[i].id) != PARSEC_SUCCESS)
            continue;
        sl->id = provs[i].id;
        memcpy(sl->uuid, provs[i].uuid, sizeof(sl->uuid));
        snprintf(sl->vendor, sizeof(sl->vendor), "%s",
                 provs[i].vendor[0] ? provs[i].vendor : P11_MANUFACTURER);
        sl->version_maj = provs[i].version_maj;
        sl->version_min = provs[i].version_min;
        g_n_slots++;
    }
    if (g_n_slots == 0) { /* e.g. Direct authentication without a name: asked again later */
        free(g_slots);
        g_slots = NULL;
    } else {
        g_slots_loaded = 1;
    }
out:
    parsec_provider_info_free(provs, n);
    parsec_client_free(boot);
    return rv;
}

static struct p11_slot *slot_find_locked(CK_SLOT_ID id)
{
    if (slots_load_locked() != CKR_OK)
        return NULL;
    for (size_t i = 0; i < g_n_slots; i++)
        if (g_slots[i].id == id)
            return &g_slots[i];
    return NULL;
}

/* g_lock held, initialised, the slot found, or an error. */
static CK_RV slot_enter(CK_SLOT_ID id, struct p11_slot **slot)
{
    pthread_mutex_lock(&g_lock);
    if (!live_locked()) {
        pthread_mutex_unlock(&g_lock);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    *slot = slot_find_locked(id);
    if (*slot == NULL) {
        pthread_mutex_unlock(&g_lock);
        return CKR_SLOT_ID_INVALID;
    }
    return CKR_OK;
}

static const char *provider_name(CK_SLOT_ID id)
{
    static const char *const names[] = {"Core", "Mbed Crypto",     "PKCS #11",
                                        "TPM",  "Trusted Service", "CryptoAuthLib"};
    return id < sizeof(names) / sizeof(names[0]) ? names[id] : "provider";
}

CK_RV C_GetSlotList(CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
    CK_RV rv = CKR_OK;
    (void)token_present; /* every slot has its token */
    if (count == NULL)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&g_lock);
    if (!live_locked()) {
        rv = CKR_CRYPTOKI_NOT_INITIALIZED;
        goto out;
    }
    if ((rv = slots_load_locked()) != CKR_OK)
        goto out;
    if (list != NULL) {
        if (*count < g_n_slots)
            rv = CKR_BUFFER_TOO_SMALL;
        else
            for (size_t i = 0; i < g_n_slots; i++)
                list[i] = g_slots[i].id;
    }
    *count = g_n_slots;
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO_PTR info)
{
    struct p11_slot *sl;
    char desc[80];
    CK_RV rv = slot_enter(id, &sl);
    if (rv != CKR_OK)
        return rv;
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    memset(info, 0, sizeof(*info));
    snprintf(desc, sizeof(desc), "Parsec %s provider %s", provider_name(sl->id), sl->uuid);
    p11_pad(info->slotDescription, sizeof(info->slotDescription), desc);
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), sl->vendor);
    info->flags = CKF_TOKEN_PRESENT;
    info->hardwareVersion.major = (CK_BYTE)sl->version_maj;
    info->hardwareVersion.minor = (CK_BYTE)sl->version_min;
    info->firmwareVersion = info->hardwareVersion;
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO_PTR info)
{
    struct p11_slot *sl;
    char label[40], serial[17];
    size_t j = 0;
    CK_RV rv = slot_enter(id, &sl);
    if (rv != CKR_OK)
        return rv;
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    memset(info, 0, sizeof(*info));
    /* Label, model and serial depend only on the provider's identity, so pkcs11: URIs naming
     * the token stay valid across restarts. */
    snprintf(label, sizeof(label), "Parsec %s", provider_name(sl->id));
    for (size_t i = 0; sl->uuid[i] != '\0' && j < 16; i++)
        if (sl->uuid[i] != '-')
            serial[j++] = sl->uuid[i];
    serial[j] = '\0';
    p11_pad(info->label, sizeof(info->label), label);
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), sl->vendor);
    p11_pad(info->model, sizeof(info->model), provider_name(sl->id));
    p11_pad(info->serialNumber, sizeof(info->serialNumber), serial);
    info->flags = CKF_RNG | CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED;
    info->ulMaxSessionCount = P11_MAX_SESSIONS;
    info->ulMaxRwSessionCount = P11_MAX_SESSIONS;
    for (size_t i = 0; i < g_n_sessions; i++)
        if (g_sessions[i]->slot == sl) {
            info->ulSessionCount++;
            if (g_sessions[i]->flags & CKF_RW_SESSION)
                info->ulRwSessionCount++;
        }
    info->ulMaxPinLen = 255;
    info->ulMinPinLen = 0;
    info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->hardwareVersion.major = (CK_BYTE)sl->version_maj;
    info->hardwareVersion.minor = (CK_BYTE)sl->version_min;
    info->firmwareVersion = info->hardwareVersion;
    memset(info->utcTime, ' ', sizeof(info->utcTime));
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
    struct p11_slot *sl;
    CK_RV rv = slot_enter(id, &sl);
    if (rv != CKR_OK)
        return rv;
    if (count == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    p11_mechs_load(sl);
    if (list != NULL) {
        if (*count < sl->n_mechs)
            rv = CKR_BUFFER_TOO_SMALL;
        else
            memcpy(list, sl->mechs, sl->n_mechs * sizeof(*list));
    }
    *count = sl->n_mechs;
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
    struct p11_slot *sl;
    CK_RV rv = slot_enter(id, &sl);
    if (rv != CKR_OK)
        return rv;
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    p11_mechs_load(sl);
    rv = CKR_MECHANISM_INVALID;
    for (size_t i = 0; i < sl->n_mechs; i++)
        if (sl->mechs[i] == type) {
            *info = sl->mech_info[i];
            rv = CKR_OK;
        }
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
    CK_RV rv;
    (void)slot;
    (void)reserved;
    pthread_mutex_lock(&g_lock);
    rv = live_locked() ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED;
    pthread_mutex_unlock(&g_lock);
    if (rv != CKR_OK)
        return rv;
    /* Tokens are never inserted or removed. */
    return (flags & CKF_DONT_BLOCK) ? CKR_NO_EVENT : CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- sessions ------------------------------------------------------------------------------- */

CK_RV C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                    CK_SESSION_HANDLE_PTR handle)
{
    struct p11_slot *sl;
    struct p11_session *s = NULL;
    CK_RV rv;
    (void)app;
    (void)notify; /* no callbacks: operations never wait on the user */
    if ((rv = slot_enter(id, &sl)) != CKR_OK)
        return rv;
    if (handle == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if (!(flags & CKF_SERIAL_SESSION)) {
        rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
        goto out;
    }
    if (g_n_sessions == P11_MAX_SESSIONS) {
        rv = CKR_SESSION_COUNT;
        goto out;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    s->slot = sl;
    s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
    s->refs = 1;
    s->handle = g_next_session++;
    g_sessions[g_n_sessions++] = s;
    *handle = s->handle;
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

static size_t slot_sessions_locked(const struct p11_slot *sl)
{
    size_t n = 0;
    for (size_t i = 0; i < g_n_sessions; i++)
        n += g_sessions[i]->slot == sl;
    return n;
}

static void session_close_locked(size_t i)
{
    struct p11_session *s = g_sessions[i];
    g_sessions[i] = g_sessions[--g_n_sessions];
    g_sessions[g_n_sessions] = NULL;
    /* PKCS#11: the login state ends with the last session of the token. */
    if (slot_sessions_locked(s->slot) == 0)
        s->slot->logged_in = 0;
    if (--s->refs == 0)
        session_free(s);
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
    CK_RV rv = CKR_SESSION_HANDLE_INVALID;
    pthread_mutex_lock(&g_lock);
    if (!live_locked()) {
        rv = CKR_CRYPTOKI_NOT_INITIALIZED;
        goto out;
    }
    for (size_t i = 0; i < g_n_sessions; i++)
        if (g_sessions[i]->handle == h) {
            session_close_locked(i);
            rv = CKR_OK;
            break;
        }
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID id)
{
    struct p11_slot *sl;
    CK_RV rv = slot_enter(id, &sl);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = g_n_sessions; i-- > 0;)
        if (g_sessions[i]->slot == sl)
            session_close_locked(i);
    pthread_mutex_unlock(&g_lock);
    return CKR_OK;
}

CK_RV p11_session_get(CK_SESSION_HANDLE h, struct p11_session **out)
{
    struct p11_session *s = NULL;
    pthread_mutex_lock(&g_lock);
    if (!live_locked()) {
        pthread_mutex_unlock(&g_lock);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    for (size_t i = 0; i < g_n_sessions; i++)
        if (g_sessions[i]->handle == h) {
            s = g_sessions[i];
            s->refs++;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    if (s == NULL)
        return CKR_SESSION_HANDLE_INVALID;
    pthread_mutex_lock(&s->lock);
    *out = s;
    return CKR_OK;
}

void p11_session_put(struct p11_session *s)
{
    int last;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&g_lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&g_lock);
    if (last)
        session_free(s);
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    if (info == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    memset(info, 0, sizeof(*info));
    info->slotID = s->slot->id;
    info->flags = s->flags;
    pthread_mutex_lock(&g_lock);
    if (s->slot->logged_in)
        info->state = (s->flags & CKF_RW_SESSION) ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    else
        info->state = (s->flags & CKF_RW_SESSION) ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    pthread_mutex_unlock(&g_lock);
out:
    p11_session_put(s);
    return rv;
}

/* The service authenticates the process itself (its uid, or the configured application name):
 * a PIN adds nothing, so any PIN is accepted and ignored, and login only changes the session
 * state that applications read back. */
CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    (void)pin;
    (void)pin_len;
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_lock(&g_lock);
    if (user == CKU_CONTEXT_SPECIFIC)
        rv = CKR_OPERATION_NOT_INITIALIZED; /* no key asks for it (CKA_ALWAYS_AUTHENTICATE) */
    else if (user != CKU_USER && user != CKU_SO)
        rv = CKR_USER_TYPE_INVALID;
    else if (user == CKU_SO)
        rv = CKR_USER_TYPE_INVALID; /* the token has no security officer */
    else if (s->slot->logged_in)
        rv = CKR_USER_ALREADY_LOGGED_IN;
    else
        s->slot->logged_in = 1;
    pthread_mutex_unlock(&g_lock);
    p11_session_put(s);
    return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
    struct p11_session *s;
    CK_RV rv = p11_session_get(h, &s);
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_lock(&g_lock);
    if (!s->slot->logged_in)
        rv = CKR_USER_NOT_LOGGED_IN;
    s->slot->logged_in = 0;
    pthread_mutex_unlock(&g_lock);
    p11_session_put(s);
    return rv;
}

/* ---- object handle registry ----------------------------------------------------------------- */

CK_RV p11_registry_index(CK_SLOT_ID slot, const char *name, uint32_t *index)
{
    CK_RV rv = CKR_OK;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_n_names; i++)
        if (g_names[i].slot == slot && strcmp(g_names[i].name, name) == 0) {
            *index = (uint32_t)i;
            goto out;
        }
    if (g_n_names == P11_MAX_OBJECT_NAMES) {
        rv = CKR_DEVICE_MEMORY;
        goto out;
    }
    if (g_n_names == g_cap_names) {
        size_t cap = g_cap_names ? g_cap_names * 2 : 16;
        struct p11_name *n = realloc(g_names, cap * sizeof(*n));
        if (n == NULL) {
            rv = CKR_HOST_MEMORY;
            goto out;
        }
        g_names = n;
        g_cap_names = cap;
    }
    if ((g_names[g_n_names].name = strdup(name)) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    g_names[g_n_names].slot = slot;
    *index = (uint32_t)g_n_names++;
out:
    pthread_mutex_unlock(&g_lock);
    return rv;
}

/* ---- what the token does not offer ---------------------------------------------------------- */

/* Checks the library state and the session, for the functions the token does not offer: they
 * still answer CKR_CRYPTOKI_NOT_INITIALIZED and CKR_SESSION_HANDLE_INVALID first. */
static CK_RV unsupported(CK_SESSION_HANDLE h, CK_RV rv)
{
    struct p11_session *s;
    CK_RV r = p11_session_get(h, &s);
    if (r != CKR_OK)
        return r;
    p11_session_put(s);
    return rv;
}

CK_RV C_InitToken(CK_SLOT_ID id, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR label)
{
    struct p11_slot *sl;
    CK_RV rv = slot_enter(id, &sl);
    (void)pin;
    (void)pin_len;
    (void)label;
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_unlock(&g_lock);
    return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
    (void)pin;
    (void)pin_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
               CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
    (void)old_pin;
    (void)old_len;
    (void)new_pin;
    (void)new_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG_PTR len)
{
    (void)state;
    (void)len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG len,
                          CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key)
{
    (void)state;
    (void)len;
    (void)enc_key;
    (void)auth_key;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
                     CK_OBJECT_HANDLE_PTR obj)
{
    (void)tmpl;
    (void)n;
    (void)obj;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
                   CK_OBJECT_HANDLE_PTR out)
{
    (void)obj;
    (void)tmpl;
    (void)n;
    (void)out;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ULONG_PTR size)
{
    (void)obj;
    (void)size;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
                          CK_ULONG n)
{
    (void)obj;
    (void)tmpl;
    (void)n;
    /* Labels and attributes are the service's key name and policy, which never change. */
    return unsupported(h, CKR_ACTION_PROHIBITED);
}

CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key)
{
    (void)key;
    return unsupported(h, CKR_KEY_INDIGESTIBLE);
}

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
    (void)mech;
    (void)key;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
                    CK_ULONG_PTR sig_len)
{
    (void)data;
    (void)len;
    (void)sig;
    (void)sig_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
    (void)mech;
    (void)key;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG sig_len, CK_BYTE_PTR data,
                      CK_ULONG_PTR len)
{
    (void)sig;
    (void)sig_len;
    (void)data;
    (void)len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                          CK_ULONG_PTR out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
                    CK_OBJECT_HANDLE_PTR key)
{
    (void)tmpl;
    (void)n;
    (void)key;
    (void)mech;
    return unsupported(h, CKR_MECHANISM_INVALID);
}

CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE wrapping,
                CK_OBJECT_HANDLE key, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    (void)mech;
    (void)wrapping;
    (void)key;
    (void)out;
    (void)out_len;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE unwrapping,
                  CK_BYTE_PTR in, CK_ULONG in_len, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
                  CK_OBJECT_HANDLE_PTR key)
{
    (void)mech;
    (void)unwrapping;
    (void)in;
    (void)in_len;
    (void)tmpl;
    (void)n;
    (void)key;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE base,
                  CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
{
    (void)mech;
    (void)base;
    (void)tmpl;
    (void)n;
    (void)key;
    return unsupported(h, CKR_FUNCTION_NOT_SUPPORTED);
}

CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG len)
{
    (void)seed;
    (void)len;
    return unsupported(h, CKR_RANDOM_SEED_NOT_SUPPORTED);
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
    return unsupported(h, CKR_FUNCTION_NOT_PARALLEL);
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE h)
{
    return unsupported(h, CKR_FUNCTION_NOT_PARALLEL);
}

/* ---- the function list ---------------------------------------------------------------------- */

static CK_FUNCTION_LIST g_functions = {
    {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
    C_Initialize,
    C_Finalize,
    C_GetInfo,
    C_GetFunctionList,
    C_GetSlotList,
    C_GetSlotInfo,
    C_GetTokenInfo,
    C_GetMechanismList,
    C_GetMechanismInfo,
    C_InitToken,
    C_InitPIN,
    C_SetPIN,
    C_OpenSession,
    C_CloseSession,
    C_CloseAllSessions,
    C_GetSessionInfo,
    C_GetOperationState,
    C_SetOperationState,
    C_Login,
    C_Logout,
    C_CreateObject,
    C_CopyObject,
    C_DestroyObject,
    C_GetObjectSize,
    C_GetAttributeValue,
    C_SetAttributeValue,
    C_FindObjectsInit,
    C_FindObjects,
    C_FindObjectsFinal,
    C_EncryptInit,
    C_Encrypt,
    C_EncryptUpdate,
    C_EncryptFinal,
    C_DecryptInit,
    C_Decrypt,
    C_DecryptUpdate,
    C_DecryptFinal,
    C_DigestInit,
    C_Digest,
    C_DigestUpdate,
    C_DigestKey,
    C_DigestFinal,
    C_SignInit,
    C_Sign,
    C_SignUpdate,
    C_SignFinal,
    C_SignRecoverInit,
    C_SignRecover,
    C_VerifyInit,
    C_Verify,
    C_VerifyUpdate,
    C_VerifyFinal,
    C_VerifyRecoverInit,
    C_VerifyRecover,
    C_DigestEncryptUpdate,
    C_DecryptDigestUpdate,
    C_SignEncryptUpdate,
    C_DecryptVerifyUpdate,
    C_GenerateKey,
    C_GenerateKeyPair,
    C_WrapKey,
    C_UnwrapKey,
    C_DeriveKey,
    C_SeedRandom,
    C_GenerateRandom,
    C_GetFunctionStatus,
    C_CancelFunction,
    C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    if (list == NULL)
        return CKR_ARGUMENTS_BAD;
    *list = &g_functions;
    return CKR_OK;
}
