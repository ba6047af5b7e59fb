/* libparsec internals shared by the client's source files. */
#ifndef PARSEC_CLIENT_INT_H
#define PARSEC_CLIENT_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "parsec/client.h"

/* Largest socket path: sun_path holds 108 bytes including the NUL. */
#define CL_SOCKET_PATH_MAX 107

struct parsec_client {
    /* Guards every field below except socket_path, which never changes. */
    pthread_mutex_t lock;
    char *socket_path;
    int provider;
    int auth_type;
    char *app_name; /* Direct authentication name, NULL if none */
    uint64_t timeout_ms;
    size_t max_body;
};

/* What one request is sent with: a snapshot of the client's settings. */
struct cl_settings {
    const char *socket_path;
    uint8_t provider;
    uint8_t auth_type;
    uint8_t *auth; /* malloc'd auth field bytes, NULL when empty */
    size_t auth_len;
    uint64_t timeout_ms;
    size_t max_body;
};

/* Where a request goes and with which authentication. */
enum cl_route {
    CL_ROUTE_CORE,        /* provider 0, the client's authentication */
    CL_ROUTE_CORE_NOAUTH, /* provider 0, no authentication (Ping, bootstrap) */
    CL_ROUTE_CRYPTO,      /* the implicit provider (not Core), the client's authentication */
    CL_ROUTE_TPM,         /* the TPM provider whatever the implicit one, the client's auth */
};

/* Takes a snapshot of the client's settings for one request. 0 or PARSEC_ERROR_NO_MEMORY. */
int cl_settings_get(struct parsec_client *c, enum cl_route route, struct cl_settings *s);
void cl_settings_clear(struct cl_settings *s);

/* Builds the auth field for auth_type (Direct: app name; Unix peer: getuid() LE). */
int cl_auth_bytes(int auth_type, const char *app_name, uint8_t **auth, size_t *auth_len);
/* How long fetching a JWT-SVID from the Workload API may take, connection included. */
#define CL_SPIFFE_TIMEOUT_MS 10000
/* The Workload API endpoint of $SPIFFE_ENDPOINT_SOCKET: 0, PARSEC_ERROR_SPIFFE_SOCKET when it
 * is unset or no unix: socket path, PARSEC_ERROR_NOT_SUPPORTED in a build without JWT-SVID. */
int cl_spiffe_endpoint(const char **endpoint);

/* One request and its reply. op may be NULL (empty body). On success *result holds the
 * unpacked reply (free it with cl_result_free), or NULL if result_desc is NULL. */
int cl_call(struct parsec_client *c, enum cl_route route, uint32_t opcode,
            const ProtobufCMessage *op, const ProtobufCMessageDescriptor *result_desc,
            ProtobufCMessage **result);

/* Same with explicit settings (the bootstrap uses it before the client is complete). */
int cl_call_with(const struct cl_settings *s, uint32_t opcode, const ProtobufCMessage *op,
                 const ProtobufCMessageDescriptor *result_desc, ProtobufCMessage **result);

/* A cl_call on the crypto route whose reply has one bytes field, at offset `field` of the
 * result struct, copied out with cl_copy_out. */
int cl_call_out(struct parsec_client *c, uint32_t opcode, const ProtobufCMessage *op,
                const ProtobufCMessageDescriptor *result_desc, size_t field, uint8_t *out,
                size_t out_size, size_t *out_len);

/* Frees an unpacked reply after wiping its bytes fields (they may hold secrets). */
void cl_result_free(ProtobufCMessage *m);

/* Copies src into the caller's (out, out_size, out_len) buffer, or reports the needed length
 * with PARSEC_ERROR_BUFFER_TOO_SMALL. */
int cl_copy_out(const ProtobufCBinaryData *src, uint8_t *out, size_t out_size, size_t *out_len);

/* Checks a key/application name: non-NULL and at most PARSEC_KEY_NAME_MAX bytes. */
int cl_check_name(const char *name);
/* Checks an input buffer: data may be NULL only when len is 0. */
int cl_check_buf(const void *data, size_t len);

/* Maps the return value of a psa/convert.h function (0 or a wire status) to a client error. */
int cl_conv_error(int rc);

/* Transport: sends req (len bytes) on a new connection and reads one reply. On success *hdr is
 * the reply header and *body its malloc'd body (NULL if empty); the caller wipes and frees it.
 * Errors: PARSEC_ERROR_CONNECT (errno set), PARSEC_ERROR_IO, PARSEC_ERROR_TIMEOUT, the reply
 * header errors, PARSEC_ERROR_NO_MEMORY. */
struct psc_header;
int cl_transport(const struct cl_settings *s, const uint8_t *req, size_t len,
                 struct psc_header *hdr, uint8_t **body);

/* Endpoint URI -> socket path (malloc'd). */
int cl_endpoint_path(const char *uri, char **path);

/* Process-wide wiping that the compiler cannot drop. */
void cl_wipe(void *p, size_t n);

#endif
