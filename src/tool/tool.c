#include "tool/tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool/tlog.h"

static char err_display[TOOL_ERROR_MAX];
static char err_debug[TOOL_ERROR_MAX];

int tool_fail_text(const char *display, const char *debug)
{
    snprintf(err_display, sizeof(err_display), "%s", display);
    snprintf(err_debug, sizeof(err_debug), "%s", debug);
    return -1;
}

int tool_fail(enum tool_kind kind)
{
    switch (kind) {
    case TOOL_NOT_SUPPORTED:
        return tool_fail_text("Operation not supported by the parsec-tool",
                              "ParsecToolError(NotSupported)");
    case TOOL_WRONG_KEY_ALGORITHM:
        /* "They" is the original's spelling, kept for scripts that match the text. */
        return tool_fail_text("They key was not created with the correct algorithm for this "
                              "operation",
                              "ParsecToolError(WrongKeyAlgorithm)");
    default:
        return tool_fail_text("Incorrect data format", "ParsecToolError(IncorrectData)");
    }
}

/* Rust's std::io::ErrorKind for an errno value, as its Debug prints it. */
static const char *io_kind(int e)
{
    switch (e) {
    case EPERM:
    case EACCES:
        return "PermissionDenied";
    case ENOENT:
        return "NotFound";
    case EINTR:
        return "Interrupted";
    case E2BIG:
        return "ArgumentListTooLong";
    case EAGAIN:
        return "WouldBlock";
    case ENOMEM:
        return "OutOfMemory";
    case EBUSY:
        return "ResourceBusy";
    case EEXIST:
        return "AlreadyExists";
    case EXDEV:
        return "CrossesDevices";
    case ENOTDIR:
        return "NotADirectory";
    case EISDIR:
        return "IsADirectory";
    case EINVAL:
        return "InvalidInput";
    case ETXTBSY:
        return "ExecutableFileBusy";
    case EFBIG:
        return "FileTooLarge";
    case ENOSPC:
        return "StorageFull";
    case ESPIPE:
        return "NotSeekable";
    case EROFS:
        return "ReadOnlyFilesystem";
    case EMLINK:
        return "TooManyLinks";
    case EPIPE:
        return "BrokenPipe";
    case EDEADLK:
        return "Deadlock";
    case ENAMETOOLONG:
        return "InvalidFilename";
    case ENOSYS:
        return "Unsupported";
    case ENOTEMPTY:
        return "DirectoryNotEmpty";
    case ELOOP:
        return "FilesystemLoop";
    case EADDRINUSE:
        return "AddrInUse";
    case EADDRNOTAVAIL:
        return "AddrNotAvailable";
    case ENETDOWN:
        return "NetworkDown";
    case ENETUNREACH:
        return "NetworkUnreachable";
    case ECONNABORTED:
        return "ConnectionAborted";
    case ECONNRESET:
        return "ConnectionReset";
    case ENOTCONN:
        return "NotConnected";
    case ETIMEDOUT:
        return "TimedOut";
    case ECONNREFUSED:
        return "ConnectionRefused";
    case EHOSTUNREACH:
        return "HostUnreachable";
    case ESTALE:
        return "StaleNetworkFileHandle";
    case EDQUOT:
        return "FilesystemQuotaExceeded";
    default:
        return "Uncategorized";
    }
}

void tool_client_error(int err, int os_errno, char *display, size_t dcap, char *debug, size_t bcap)
{
    const char *name = parsec_error_name(err);
    if (err == PARSEC_ERROR_CONNECT) {
        const char *msg = strerror(os_errno);
        snprintf(display, dcap, "%s (os error %d)", msg, os_errno);
        snprintf(debug, bcap, "Client(Ipc(Os { code: %d, kind: %s, message: \"%s\" }))", os_errno,
                 io_kind(os_errno), msg);
        return;
    }
    snprintf(display, dcap, "%s", parsec_strerror(err));
    if (err == PARSEC_ERROR_SPIFFE || err == PARSEC_ERROR_SPIFFE_SOCKET) {
        /* Which socket: the variable's value, or that it is unset. */
        const char *sock = getenv(PARSEC_SPIFFE_ENDPOINT_ENV);
        snprintf(display, dcap, "%s (%s=%s)", parsec_strerror(err), PARSEC_SPIFFE_ENDPOINT_ENV,
                 sock ? sock : "unset");
    }
    if (!name)
        name = "Unknown";
    if (!parsec_error_is_client(err)) {
        snprintf(debug, bcap, "Service(%s)", name);
    } else if (parsec_error_wire_status(err) != 0) {
        /* The original client wraps reply and transport problems in an interface status. */
        int s = parsec_error_wire_status(err);
        const char *sname = parsec_error_name(s);
        snprintf(debug, bcap, "Client(Interface(%s))", sname ? sname : "Unknown");
    } else {
        snprintf(debug, bcap, "Client(%s)", name);
    }
}

int tool_fail_client(int err)
{
    char display[TOOL_ERROR_MAX], debug[TOOL_ERROR_MAX - 32];
    int os_errno = errno;
    if (err == PARSEC_ERROR_TIMEOUT) {
        /* The original converts the timed-out read into an I/O error and says so. */
        tlog(TLOG_WARN, "parsec_interface::requests::response_status",
             "Conversion from Os { code: %d, kind: WouldBlock, message: \"%s\" } to "
             "ResponseStatus::ConnectionError.",
             EAGAIN, strerror(EAGAIN));
        tlog(TLOG_WARN, "parsec_interface::requests::response_status",
             "The WouldBlock error might mean that the connection timed out. Try in increase "
             "the timeout length.");
    }
    tool_client_error(err, os_errno, display, sizeof(display), debug, sizeof(debug));
    snprintf(err_display, sizeof(err_display), "%s", display);
    snprintf(err_debug, sizeof(err_debug), "ParsecClientError(%s)", debug);
    return -1;
}

const char *tool_error_display(void)
{
    return err_display;
}

const char *tool_error_debug(void)
{
    return err_debug;
}

int tool_key_attributes(struct tool *t, const char *name, struct parsec_key_attributes *attrs)
{
    int rc = parsec_key_attributes(t->client, name, attrs, NULL);
    return rc == 0 ? 0 : tool_fail_client(rc);
}

/* First buffer for a public key export (a 16384-bit RSA key's is about 2 KiB); a larger key is
 * fetched again with the size the library reports, up to EXPORT_MAX. */
#define EXPORT_FIRST_SIZE 4096
#define EXPORT_MAX ((size_t)64 << 10)

int tool_export_public_key(struct tool *t, const char *name, uint8_t **out, size_t *len)
{
    size_t cap = EXPORT_FIRST_SIZE;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        size_t need = 0;
        if (!buf)
            return tool_fail_client(PARSEC_ERROR_NO_MEMORY);
        int rc = parsec_export_public_key(t->client, name, buf, cap, &need);
        if (rc == 0) {
            *out = buf;
            *len = need;
            return 0;
        }
        free(buf);
        if (rc != PARSEC_ERROR_BUFFER_TOO_SMALL || need > EXPORT_MAX || need <= cap)
            return tool_fail_client(rc);
        cap = need;
    }
    return tool_fail_client(PARSEC_ERROR_BUFFER_TOO_SMALL);
}
