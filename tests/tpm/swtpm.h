/* A private swtpm (TPM 2.0 simulator) for one test: its own state folder and a free TCP port
 * pair on 127.0.0.1, started and stopped by the test. */
#ifndef PARSEC_TEST_SWTPM_H
#define PARSEC_TEST_SWTPM_H

#include <sys/types.h>

struct swtpm {
    pid_t pid;
    int port; /* server port; the control port is port + 1 */
    char dir[256];
    char tcti[64]; /* "swtpm:host=127.0.0.1,port=P" */
};

/* Whether swtpm is installed (the TPM tests skip otherwise). */
int swtpm_available(void);
/* Creates the state folder, picks ports and starts swtpm; returns when it accepts connections. */
void swtpm_start(struct swtpm *s);
/* Stops swtpm (SIGTERM, then waits): the TPM loses everything that was not in NV. */
void swtpm_stop(struct swtpm *s);
/* Starts swtpm again on the same state and ports: a TPM reset (cold boot). */
void swtpm_restart(struct swtpm *s);
/* Starts swtpm again on its state with the NV data corrupted: the TPM is in failure mode and
 * answers every command with TPM_RC_FAILURE. */
void swtpm_restart_failed(struct swtpm *s);
/* Stops it and removes its state. */
void swtpm_cleanup(struct swtpm *s);
/* Runs a tpm2-tools command against this TPM ("tpm2_changeauth -c owner x"); returns its exit
 * status, or -1 if it could not run. */
int swtpm_tool(const struct swtpm *s, const char *cmd);

#endif
