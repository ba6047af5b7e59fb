/* parsec: the Parsec service daemon. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "service/config.h"
#include "service/fs_trust.h"
#include "service/listener.h"
#include "service/sdnotify.h"
#include "service/server.h"
#include "service/service.h"

static const char *const MOD = "parsec";
#define DEFAULT_CONFIG "config.toml"

struct daemon_state {
    const char *config_path; /* NULL: embedded defaults */
    char *state_dir;         /* embedded defaults only */
    int initial_cwd;         /* fd of the working directory at start */
    int systemd_socket;      /* the listening socket came from systemd */
    char *socket_path;       /* path of the socket we created */
    int socket_created;      /* socket_path is our listening socket (to remove on a failed start) */
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: parsec [-c FILE]\n"
            "\n"
            "The Parsec service: a local daemon serving PSA Crypto operations to applications\n"
            "over a Unix socket, with keys isolated per application.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE  configuration file to read at start and at every SIGHUP\n"
            "                     (default: " DEFAULT_CONFIG " in the working directory; when\n"
            "                     that file does not exist the service runs on its embedded\n"
            "                     defaults: software provider, SQLite key mappings, Unix peer\n"
            "                     credentials, all state in $PARSEC_STATE_DIR, else\n"
            "                     $XDG_STATE_HOME/parsec, else ~/.local/state/parsec; the\n"
            "                     folder must be the service user's and not writable by\n"
            "                     others)\n"
            "  -h, --help         print this help and exit\n"
            "  -V, --version      print the version and exit\n"
            "\n"
            "Signals: SIGTERM and SIGINT stop the service after the requests in flight;\n"
            "SIGHUP reloads the configuration (a configuration that fails to load is logged\n"
            "and the running one keeps serving).\n"
            "Environment: RUST_LOG or PARSEC_LOG sets the log level (off, error, warn, info,\n"
            "debug, trace, or directives such as warn,parsec=debug; default warn); the\n"
            "configuration's log_level replaces its global level. NOTIFY_SOCKET, LISTEN_FDS\n"
            "and LISTEN_PID are honoured for systemd.\n"
            "Exit status: 0 stopped by a signal, 1 start-up failure, 2 usage error,\n"
            "78 configuration missing, invalid or refused (systemd does not restart).\n");
}

/* Makes a configured path absolute against the working directory at start, so that the
 * providers' change of directory never changes what a relative path in the file means. */
static int absolutize(char **p, const char *base)
{
    if (!*p || (*p)[0] == '/')
        return 0;
    char *a;
    if (asprintf(&a, "%s/%s", base, *p) < 0)
        return -1;
    free(*p);
    *p = a;
    return 0;
}

static int fix_paths(struct config *cfg, char *err, size_t err_len)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        snprintf(err, err_len, "getcwd: %s", strerror(errno));
        return -1;
    }
    int rc = absolutize(&cfg->listener.socket_path, cwd);
    for (size_t i = 0; i < cfg->n_kims; i++) {
        rc |= absolutize(&cfg->kims[i].store_path, cwd);
        rc |= absolutize(&cfg->kims[i].sqlite_db_path, cwd);
    }
    for (size_t i = 0; i < cfg->n_providers; i++) {
        struct cfg_provider *p = &cfg->providers[i];
        /* The original keeps Mbed TLS key files in the working directory. */
        if (!p->key_store_path && strcmp(p->provider_type, "MbedCrypto") == 0)
            p->key_store_path = strdup(".");
        rc |= absolutize(&p->key_store_path, cwd);
        size_t n = p->key_store_path ? strlen(p->key_store_path) : 0;
        if (n > 2 && strcmp(p->key_store_path + n - 2, "/.") == 0)
            p->key_store_path[n - 2] = 0;
    }
    if (rc != 0)
        snprintf(err, err_len, "out of memory");
    return rc;
}

/* The embedded defaults' state folder; NULL when the environment names none. There is no
 * fallback into a shared folder such as /tmp, where another user could create it first. */
static char *state_dir_default(void)
{
    const char *v = getenv("PARSEC_STATE_DIR");
    char *d = NULL;
    if (v && *v)
        d = strdup(v);
    else if ((v = getenv("XDG_STATE_HOME")) && *v)
        (void)!asprintf(&d, "%s/parsec", v);
    else if ((v = getenv("HOME")) && *v)
        (void)!asprintf(&d, "%s/.local/state/parsec", v);
    return d;
}

/* Reads the configuration the daemon runs on: the file, or the embedded defaults. */
static int load_config(struct daemon_state *d, struct config *cfg, char *err, size_t err_len)
{
    memset(cfg, 0, sizeof(*cfg));
    if (fchdir(d->initial_cwd) != 0) {
        snprintf(err, err_len, "cannot return to the start-up directory: %s", strerror(errno));
        return -1;
    }
    if (d->config_path) {
        /* Warnings about the file (unknown keys) are shown whatever the log level. */
        enum log_level level = log_get_level();
        if (level < LOG_WARN)
            log_set_level(LOG_WARN);
        int rc = config_load(d->config_path, cfg, err, err_len);
        log_set_level(level);
        if (rc != 0)
            return -1;
    } else {
        if (!d->state_dir) {
            snprintf(err, err_len,
                     "no state folder for the embedded defaults: set "
                     "PARSEC_STATE_DIR (or HOME), or use a configuration file");
            return -1;
        }
        int fd = fst_dir("state folder", d->state_dir, 0700, NULL, err, err_len);
        if (fd < 0)
            return -1;
        close(fd);
        if (config_embedded(d->state_dir, cfg) != 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    if (fix_paths(cfg, err, err_len) != 0) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

static void apply_logging(const struct config *cfg)
{
    /* config_load has checked the value. */
    if (cfg->core.log_level)
        log_set_global_level((enum log_level)log_level_parse(cfg->core.log_level));
    log_set_timestamp(cfg->core.log_timestamp);
}

static void notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sdn_notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading the configuration",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

struct reload_ctx {
    struct daemon_state *d;
    struct config cfg;
    struct server *srv;
    struct psc_service *old;
    int new_listener; /* -1: unchanged */
    char *old_socket_path; /* to remove once the new socket serves */
    char err[1024];
    int failed;
};

/* Runs with every request drained and new ones held back. */
static void reload_swap(struct psc_service **svc, void *arg)
{
    struct reload_ctx *r = arg;
    struct psc_service *s = NULL;
    char *new_path = r->cfg.listener.socket_path ? strdup(r->cfg.listener.socket_path) : NULL;
    r->new_listener = -1;
    if (service_build(&r->cfg, &s, r->err, sizeof(r->err)) != 0)
        goto fail;
    if (!r->d->systemd_socket && new_path && strcmp(new_path, r->d->socket_path) != 0) {
        r->new_listener = listener_create(new_path, r->err, sizeof(r->err));
        if (r->new_listener < 0)
            goto fail;
        r->old_socket_path = r->d->socket_path;
        r->d->socket_path = new_path;
        new_path = NULL;
    }
    free(new_path);
    r->old = *svc;
    *svc = s;
    return;
fail:
    free(new_path);
    service_free(s);
    r->failed = 1;
    /* The running providers keep their key folder as working directory. */
    for (size_t i = 0; i < (*svc)->cfg.n_providers; i++)
        if ((*svc)->cfg.providers[i].key_store_path &&
            chdir((*svc)->cfg.providers[i].key_store_path) != 0)
            log_error(MOD, "cannot return to %s: %s", (*svc)->cfg.providers[i].key_store_path,
                      strerror(errno));
}

static void reload(struct daemon_state *d, struct server *srv)
{
    struct reload_ctx r = {.d = d, .srv = srv, .new_listener = -1};
    log_info(MOD, "SIGHUP received. Reloading the configuration...");
    notify_reloading();
    if (load_config(d, &r.cfg, r.err, sizeof(r.err)) != 0) {
        r.failed = 1;
    } else {
        server_exclusive(srv, reload_swap, &r);
    }
    if (r.failed) {
        log_error(MOD, "configuration reload failed, the previous configuration keeps serving: %s",
                  r.err);
        sdn_notify("READY=1\nSTATUS=Reload failed (%s); previous configuration serving", r.err);
        return;
    }
    if (r.new_listener >= 0) {
        int old = server_replace_listener(srv, r.new_listener);
        close(old);
        /* The old socket file is ours and nobody listens on it any more. */
        if (unlink(r.old_socket_path) != 0)
            log_warn(MOD, "cannot remove %s: %s", r.old_socket_path, strerror(errno));
        free(r.old_socket_path);
    }
    log_info(MOD, "Parsec configuration reloaded.");
    sdn_notify("READY=1\nSTATUS=Serving");
    service_free(r.old);
}

/* What to do about a configuration file that cannot be read; a file that can be read but is
 * wrong gets its line named by the parser instead. */
static const char *config_fix(const char *path)
{
    if (access(path, R_OK) == 0)
        return "";
    if (errno == ENOENT)
        return " (create it, e.g. from packaging/config.toml, or name another file with -c)";
    return " (the service's user must be able to read it and search its folders, e.g. "
           "chgrp parsec FILE && chmod 0640 FILE)";
}

static int parse_args(int argc, char **argv, struct daemon_state *d)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            d->config_path = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("parsec %s\n", PARSEC_VERSION);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "parsec: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if (!d->config_path && access(DEFAULT_CONFIG, F_OK) == 0)
        d->config_path = DEFAULT_CONFIG;
    return 0;
}

static int open_listener(struct daemon_state *d, const struct config *cfg, char *err,
                         size_t err_len)
{
    int fd = listener_from_systemd(err, err_len);
    if (fd == -1)
        return -1;
    if (fd >= 0) {
        d->systemd_socket = 1;
        log_info(MOD, "listening on the socket passed by systemd");
        return fd;
    }
    d->socket_path = strdup(cfg->listener.socket_path);
    fd = listener_create(cfg->listener.socket_path, err, err_len);
    d->socket_created = fd >= 0;
    return fd;
}

/* Why the start failed, in one line that names the file to change (config_err: err comes from
 * reading the file and already starts with its name and line). Shown even with logging off:
 * the process is about to exit 1. */
static void start_failed(const struct daemon_state *d, int config_err, const char *err)
{
    char line[1200];
    if (config_err)
        snprintf(line, sizeof(line), "cannot start: %s", err);
    else if (d->config_path)
        snprintf(line, sizeof(line), "cannot start with %s: %s", d->config_path, err);
    else
        snprintf(line, sizeof(line),
                 "cannot start on the embedded defaults: %s (write a %s to change them)", err,
                 DEFAULT_CONFIG);
    if (log_get_level() >= LOG_ERROR)
        log_error(MOD, "%s", line);
    else
        fprintf(stderr, "parsec: %s\n", line);
}

int main(int argc, char **argv)
{
    struct daemon_state d = {.initial_cwd = -1};
    struct config cfg;
    struct psc_service *svc = NULL;
    struct server *srv = NULL;
    char err[1024] = "";
    int rc = 1;

    log_init_from_env();
    if (parse_args(argc, argv, &d) != 0)
        return 2;
    /* Mbed TLS writes private keys unencrypted with the process umask. */
    umask(077);
    d.initial_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.initial_cwd < 0) {
        fprintf(stderr, "parsec: cannot open the working directory: %s\n", strerror(errno));
        return 1;
    }
    if (!d.config_path)
        d.state_dir = state_dir_default();
    if (load_config(&d, &cfg, err, sizeof(err)) != 0) {
        if (d.config_path) {
            size_t n = strlen(err);
            snprintf(err + n, sizeof(err) - n, "%s", config_fix(d.config_path));
            /* Restarting cannot help until the file is fixed: the unit's
             * RestartPreventExitStatus= names this status. */
            rc = EX_CONFIG;
        }
        start_failed(&d, 1, err);
        goto out;
    }
    apply_logging(&cfg);
    log_info(MOD, "Parsec started. Configuring the service...");
    if (getuid() == 0 && !cfg.core.allow_root) {
        if (d.config_path) {
            start_failed(&d, 0,
                         "Insecure configuration; the Parsec service should not be running as "
                         "root! (set allow_root = true in [core_settings] to override)");
            config_free(&cfg);
            rc = EX_CONFIG;
            goto out;
        }
        log_warn(MOD, "running as root on the embedded defaults: use a configuration file and "
                      "an unprivileged user in production");
    }
    size_t workers = cfg.core.thread_pool_size;
    int lfd = open_listener(&d, &cfg, err, sizeof(err));
    if (lfd < 0) {
        config_free(&cfg);
        if (d.config_path && !d.systemd_socket) {
            size_t n = strlen(err);
            snprintf(err + n, sizeof(err) - n, " (change socket_path in [listener])");
            /* The path, or the folder the file system gives it, is the operator's to change:
             * restarting cannot cure it. */
            rc = EX_CONFIG;
        }
        start_failed(&d, 0, err);
        goto out;
    }
    if (service_build(&cfg, &svc, err, sizeof(err)) != 0) {
        start_failed(&d, 0, err);
        close(lfd);
        goto out;
    }
    /* Signals are taken synchronously by this thread only; workers never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (server_start(lfd, workers, svc, &srv, err, sizeof(err)) != 0) {
        start_failed(&d, 0, err);
        service_free(svc);
        close(lfd);
        goto out;
    }
    if (!d.config_path) {
        fprintf(stderr,
                "parsec: no %s here: running on the embedded defaults\n"
                "parsec: state (key mappings, keys): %s\n"
                "parsec: socket: %s\n"
                "parsec: clients: export PARSEC_SERVICE_ENDPOINT=unix:%s\n",
                DEFAULT_CONFIG, d.state_dir, d.socket_path ? d.socket_path : "(systemd)",
                d.socket_path ? d.socket_path : "");
    }
    log_info(MOD, "Parsec is ready.");
    sdn_notify("READY=1\nSTATUS=Serving\nMAINPID=%lu", (unsigned long)getpid());
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(&d, srv);
            continue;
        }
        log_info(MOD, "Signal %d received: stopping after the requests in flight.", sig);
        break;
    }
    sdn_notify("STOPPING=1\nSTATUS=Stopping");
    close(server_stop(srv));
    log_info(MOD, "Parsec is now terminated.");
    rc = 0;
out:
    /* A failed start leaves no socket behind that a client would find and nobody serve. */
    if (rc != 0 && d.socket_created && unlink(d.socket_path) != 0)
        log_warn(MOD, "cannot remove %s: %s", d.socket_path, strerror(errno));
    free(d.state_dir);
    free(d.socket_path);
    if (d.initial_cwd >= 0)
        close(d.initial_cwd);
    return rc;
}
