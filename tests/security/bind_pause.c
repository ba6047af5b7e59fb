/* Preloaded into the daemon by test_fs_trust: once bind() has created a Unix socket file, waits
 * until the test writes a byte to the FIFO named by $PARSEC_TEST_BIND_PAUSE. The test swaps
 * the socket file for a link in that pause, the window a by-name chmod after bind leaves. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    int (*real)(int, const struct sockaddr *, socklen_t) =
        (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    int rc = real(fd, sa, len);
    const char *fifo = getenv("PARSEC_TEST_BIND_PAUSE");
    if (rc == 0 && fifo && sa->sa_family == AF_UNIX) {
        int f = open(fifo, O_RDONLY | O_CLOEXEC);
        char c;
        if (f >= 0) {
            (void)!read(f, &c, 1);
            close(f);
        }
    }
    return rc;
}
