/* Which folders the service trusts with its state, its keys and its socket.
 *
 * A folder is trusted when no user but the service's own (and root) can change what its path
 * leads to or what it holds:
 *
 *   - every folder above it is owned by root or by the service's user (effective uid) and is
 *     not writable by its group or by other users, unless it has the sticky bit (as /tmp has:
 *     nobody may then rename or remove what another user made in it);
 *   - the folder itself is owned by the service's user, is not writable by its group or by
 *     other users (sticky or not), and is not a symbolic link.
 *
 * Symbolic links above the folder are followed, each one only once the folder holding it has
 * passed the check, so that the physical path, not the name given, is what gets checked. The
 * walk opens every component relative to the previous one with O_NOFOLLOW and checks what it
 * opened (fstat), so nothing can be swapped between the check and the use. Once a folder is
 * trusted, names inside it are stable: only the service (or root) can change them.
 *
 * Missing folders are created, with exactly the mode asked whatever the umask; folders that
 * existed are never given another mode. */
#ifndef PARSEC_FS_TRUST_H
#define PARSEC_FS_TRUST_H

#include <sys/types.h>

/* Symbolic links followed in one path before giving up (Linux's own limit). */
#define FST_MAX_LINKS 40

/* Opens folder path (relative paths are taken from the working directory), creating it and
 * every missing folder above it with mode create_mode (0: create nothing), after checking
 * that it is trusted. what names the folder in messages ("key store", "socket folder").
 * Returns a read-only descriptor of the folder (close-on-exec) and, if canon is not NULL, its
 * physical path (malloc'd); or -1 with err saying which path is refused and why. */
int fst_dir(const char *what, const char *path, mode_t create_mode, char **canon, char *err,
            size_t err_len);

#endif
