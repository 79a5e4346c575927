// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bpfprof: the command-line front. Each subcommand owns its own parsing. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "cli/exit.h"
#include "health_cli.h"
#include "record/record.h"
#include "serve/serve.h"

extern char **environ;

#define BPFPROF_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "usage: bpfprof <command> [options]\n\n"
		   "commands:\n"
		   "  record   profile the system, some PIDs or a command; write pprof or folded\n"
		   "  serve    run the continuous profiling daemon with its HTTP API\n"
		   "  health   print the memory health of a process as JSON (-p PID)\n"
		   "  version  print the version\n\n"
		   "'bpfprof record --help' and 'bpfprof serve --help' for their options.\n");
}

/* libbpf's own chatter is noise unless something fails; keep warnings and errors. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_print);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "record"))
		return record__main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return serve__main(argc - 1, argv + 1, environ);
	if (!strcmp(argv[1], "health"))
		return health_cli__main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("bpfprof %s (libbpf %s)\n", BPFPROF_VERSION, libbpf_version_string());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "bpfprof: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
