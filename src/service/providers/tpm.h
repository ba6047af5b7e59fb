/* The TPM provider (provider id 3): keys bound to a TPM 2.0, driven through the TCG TSS 2.0
 * Enhanced System API (tpm2-tss), compatible with the original service's key blobs.
 *
 * A key is a child of the storage primary ("root") key, which is re-created at every start
 * from a fixed template; the key info manager holds the whole key (public part, wrapped private
 * part, auth value). One ESAPI context per provider instance, serialised by the instance's own
 * lock. */
#ifndef PARSEC_PROVIDER_TPM_H
#define PARSEC_PROVIDER_TPM_H

#include "service/providers/provider.h"

extern const struct psc_provider_type psc_tpm_provider;

#endif
