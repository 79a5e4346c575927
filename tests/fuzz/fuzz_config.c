// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `bpfprof serve` configuration. Input: the config file's text, optionally
 * followed by a NUL and NUL-separated extra arguments: "BPFPROF_KEY=value"
 * ones become the environment, the others command-line flags. config__load
 * reads the file through --config, last so that it is the one used; then
 * config__validate runs its cross-key rules with the file-reading keys
 * (API key, TLS, data dir) cleared, since those name files, not inputs.
 */
#include "config/config.h"
#include "fuzz.h"

#define MAX_EXTRA 16

static void clear_paths(struct config *c)
{
	free(c->api_key_file);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->data_dir);
	c->api_key_file = c->tls_cert = c->tls_key = c->data_dir = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = fuzz__strdup(data, size), *argv[MAX_EXTRA + 4], *envp[MAX_EXTRA + 1];
	size_t file_len = strnlen(copy, size), off;
	char path[64], err[512], where[128];
	int argc = 0, nenv = 0;
	struct config c;

	fuzz__memfd(data, file_len, path, sizeof(path));
	argv[argc++] = "serve";
	for (off = file_len + 1; off < size && argc + nenv < MAX_EXTRA; off += strlen(copy + off) + 1) {
		if (!strncmp(copy + off, "BPFPROF_", 8))
			envp[nenv++] = copy + off;
		else
			argv[argc++] = copy + off;
	}
	argv[argc++] = "--config";
	argv[argc++] = path;
	argv[argc] = NULL;
	envp[nenv] = NULL;
	config__defaults(&c);
	if (!config__load(&c, argc, argv, envp, err, sizeof(err))) {
		clear_paths(&c);
		(void)config__validate(&c, err, sizeof(err));
		config__listen_str(&c, where, sizeof(where));
		(void)config__is_loopback(&c);
	}
	config__free(&c);
	free(copy);
	return 0;
}
