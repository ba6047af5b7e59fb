/* The service configuration: the original service's config.toml, every section and option of
 * service-config.md with the same defaults, parsed strictly. Options of providers this build
 * does not implement are parsed and kept, so that such a provider is reported clearly. */
#ifndef PARSEC_SERVICE_CONFIG_H
#define PARSEC_SERVICE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct cfg_core {
    int allow_root;                        /* false */
    size_t thread_pool_size;               /* number of online CPUs */
    uint64_t idle_listener_sleep_duration; /* 10 (accepted, unused: no polling accept loop) */
    char *log_level;                       /* NULL when absent */
    int log_timestamp;                     /* false */
    size_t body_len_limit;                 /* 1 << 20 */
    int log_error_details;                 /* false */
    size_t buffer_size_limit;              /* 1 << 20 */
    int allow_deprecated;                  /* false */
    /* Extensions of ours, bounding what clients can hold (docs/configuration.md). */
    uint64_t request_time_limit; /* ms a request, then its reply, may take in all: 10000 */
    size_t request_memory_limit; /* bytes of request and reply buffers; 0: derived */
    uint64_t peer_share_percent; /* share of that memory and of connections per uid: 50 */
    size_t max_connections;      /* 0: as many as RLIMIT_NOFILE allows */
    uint64_t stop_grace_period;  /* ms partial requests get at SIGTERM: 2000 */
};

struct cfg_listener {
    char *listener_type; /* "DomainSocket" (required) */
    uint64_t timeout;    /* milliseconds (required) */
    char *socket_path;   /* "/run/parsec/parsec.sock" */
};

struct cfg_authenticator {
    char *auth_type; /* "Direct", "UnixPeerCredentials", "JwtSvid" (required) */
    uint8_t type;    /* enum psc_auth_type matching auth_type */
    char **admins;   /* names of [[authenticator.admins]] / admins = [{ name = ".." }] */
    size_t n_admins;
    char *workload_endpoint; /* JwtSvid only (required there) */
    uint64_t workload_timeout; /* JwtSvid: ms a validation may take, 1000 (an extension) */
};

enum cfg_kim_type { CFG_KIM_SQLITE, CFG_KIM_ON_DISK };

struct cfg_kim {
    char *name;
    enum cfg_kim_type type; /* manager_type "SQLite" / "OnDisk" */
    char *store_path;       /* OnDisk: "/var/lib/parsec/mappings" */
    char *sqlite_db_path;   /* SQLite: "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3" */
};

struct cfg_provider {
    char *provider_type;    /* "MbedCrypto", "Pkcs11", "Tpm", "CryptoAuthLib", "TrustedService" */
    uint8_t id;             /* provider id matching provider_type (1-5) */
    char *name;             /* defaults per type, e.g. "mbed-crypto-provider" */
    char *key_info_manager; /* required */
    /* MbedCrypto: folder of the PSA key files; NULL = the working directory at start-up, as
     * the original service (an extension of ours, optional). */
    char *key_store_path;
    /* Pkcs11 */
    char *library_path;
    char *serial_number;
    int has_slot_number;
    uint64_t slot_number;
    char *user_pin;
    char *token_label;   /* an addition: choose the token by label */
    char *user_pin_file; /* an addition: the PIN read from this file at start */
    char *user_pin_env;  /* an addition: the PIN read from this environment variable */
    int software_public_operations; /* false */
    int allow_export;               /* true */
    /* Tpm */
    char *tcti;
    char *owner_hierarchy_auth;
    char *endorsement_hierarchy_auth;
    int skip_if_no_tpm; /* false */
    /* CryptoAuthLib */
    char *iface_type;
    char *device_type;
    int64_t wake_delay, rx_retries, slave_address, bus, baud; /* -1 when absent */
    char *access_key_file_name;
};

struct config {
    struct cfg_core core;
    struct cfg_listener listener;
    struct cfg_authenticator authenticator; /* [authenticator]: always active */
    /* [[extra_authenticator]]: also active, each of another type (an extension) */
    struct cfg_authenticator *extra_auths;
    size_t n_extra_auths;
    struct cfg_kim *kims;
    size_t n_kims;
    struct cfg_provider *providers;
    size_t n_providers;
};

/* Parses a config.toml. On failure returns -1 and writes "path:line: message" (or a message
 * without a line for whole-file rules such as a missing [listener]) into err. Warnings (unknown
 * keys, options ignored by a provider type) are logged. Relative paths are kept as written. */
int config_load(const char *path, struct config *cfg, char *err, size_t err_len);

/* Parses a config from memory (name is used in messages). Same contract as config_load. */
int config_parse(const char *name, const char *text, size_t len, struct config *cfg, char *err,
                 size_t err_len);

/* Embedded defaults, used when no configuration file exists: Mbed Crypto provider, SQLite key
 * mappings, Unix peer credentials, everything under state_dir (socket state_dir/parsec.sock,
 * database state_dir/kim-mappings/sqlite/..., keys state_dir/mbed-crypto). */
int config_embedded(const char *state_dir, struct config *cfg);

void config_free(struct config *cfg);

#endif
