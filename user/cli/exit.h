/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Exit codes of every bpfprof command, as the README documents them.
 * Threads: constants only.
 */
#ifndef BPFPROF_CLI_EXIT_H
#define BPFPROF_CLI_EXIT_H

enum {
	EXIT_OK = 0,	  /* done */
	EXIT_RUNTIME = 1, /* could not do it: no such process, no BPF, unwritable output */
	EXIT_USAGE = 2,	  /* bad command line or configuration */
};

#endif
