/* The subcommands, in the order the help lists them. */
#ifndef PARSEC_TOOL_COMMANDS_H
#define PARSEC_TOOL_COMMANDS_H

#include "tool/tool.h"

extern const struct subcommand cmd_ping;
extern const struct subcommand cmd_list_providers;
extern const struct subcommand cmd_list_authenticators;
extern const struct subcommand cmd_list_opcodes;
extern const struct subcommand cmd_list_keys;
extern const struct subcommand cmd_generate_random;
extern const struct subcommand cmd_export_public_key;
extern const struct subcommand cmd_create_rsa_key;
extern const struct subcommand cmd_create_ecc_key;
extern const struct subcommand cmd_decrypt;
extern const struct subcommand cmd_sign;
extern const struct subcommand cmd_delete_key;
extern const struct subcommand cmd_list_clients;
extern const struct subcommand cmd_delete_client;
extern const struct subcommand cmd_create_csr;
extern const struct subcommand cmd_encrypt;
extern const struct subcommand cmd_create_self_signed_cert;

#endif
