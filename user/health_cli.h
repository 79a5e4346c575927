/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `bpfprof health -p PID [-d SECONDS]`: one process's memory health as JSON,
 * read from /proc by the health model (no daemon, no BPF).
 * Threads: the main thread only (getopt).
 */
#ifndef BPFPROF_HEALTH_CLI_H
#define BPFPROF_HEALTH_CLI_H

/* argv after "bpfprof"; returns an exit code of cli/exit.h. */
int health_cli__main(int argc, char **argv);

#endif
