/* Creates an ECDSA P-256 key in the Parsec service, signs a message, verifies the signature.
 * Build: cc sign.c $(pkg-config --cflags --libs parsec) */
#include <stdio.h>

#include <parsec/client.h>

int main(int argc, char **argv)
{
    const char *key = argc > 1 ? argv[1] : "example-sign-key";
    const uint8_t msg[] = "hello, Parsec";
    uint8_t sig[PARSEC_ECDSA_P256_SIG_SIZE];
    size_t sig_len = 0;
    struct parsec_client *client = NULL;
    /* The application name is used only if the service authenticates with Direct. */
    struct parsec_client_config cfg = {.app_name = "example-sign"};

    int rc = parsec_client_new(&client, &cfg);
    if (rc == 0 && (rc = parsec_ecc_key_create(client, key)) == 0) {
        rc = parsec_sign_message_ecdsa(client, key, msg, sizeof(msg) - 1, sig, sizeof(sig),
                                       &sig_len);
        if (rc == 0)
            rc = parsec_verify_message_ecdsa(client, key, msg, sizeof(msg) - 1, sig, sig_len);
        parsec_destroy_key(client, key);
    }
    printf("%s (%zu-byte signature)\n", rc ? parsec_strerror(rc) : "verified", sig_len);
    parsec_client_free(client);
    return rc == 0 ? 0 : 1;
}
