// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `bpfprof health -p PID [-d SECONDS]`: the /health/memory JSON of one
 * process, read straight from /proc (no daemon, no BPF, no root needed for
 * one's own processes). With -d it samples RSS once a second for that long
 * to give a growth rate; heap_inuse_mb is null (the heap lives in the daemon).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "cli/exit.h"
#include "config/config.h"
#include "health/health.h"
#include "health_cli.h"
#include "serve/health_json.h"

#define CLI_PID_MAX	4194304
#define CLI_MAX_SECONDS 3600

static void usage(FILE *f)
{
	fprintf(f, "Usage: bpfprof health -p PID [-d SECONDS]\n\n"
		   "Prints the memory health of PID as JSON (the fields of GET /health/memory).\n"
		   "  -p PID      the process\n"
		   "  -d SECONDS  sample RSS once a second for SECONDS to measure its growth\n"
		   "              rate (default 0: no growth rate)\n"
		   "Thresholds are the serve defaults: warning at 80%% and critical at 95%% of\n"
		   "the cgroup memory limit.\n");
}

static bool parse_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && v <= hi; i++)
		v = v * 10 + (s[i] - '0');
	if (!i || s[i] || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int parse_args(int argc, char **argv, uint32_t *pid, unsigned int *secs)
{
	unsigned long v;
	int c;

	*pid = 0;
	*secs = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+p:d:h")) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -1;
		}
		if (c == 'p' && parse_num(optarg, 1, CLI_PID_MAX, &v)) {
			*pid = v;
		} else if (c == 'd' && parse_num(optarg, 0, CLI_MAX_SECONDS, &v)) {
			*secs = v;
		} else {
			fprintf(stderr, "bpfprof: health: %s\n",
				c == 'p' ? "invalid PID: expected a whole number 1..4194304"
				: c == 'd'
				    ? "invalid -d: expected seconds 0..3600"
				    : "unknown flag or missing value (see bpfprof health -h)");
			return EXIT_USAGE;
		}
	}
	if (optind < argc || !*pid) {
		fprintf(stderr, "bpfprof: health: %s\n",
			*pid ? "unexpected argument" : "-p PID is required");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* One RSS point a second for secs seconds; false when the PID went away. */
static bool sample(uint32_t pid, unsigned int secs, struct trend *t)
{
	struct timespec ts, one = {1, 0};
	struct procmem m;

	for (unsigned int i = 0; i <= secs; i++) {
		if (i)
			nanosleep(&one, NULL);
		if (procmem__read(NULL, pid, &m))
			return false;
		clock_gettime(CLOCK_REALTIME, &ts);
		trend__add(t, ts.tv_sec * 1000000000LL + ts.tv_nsec, m.rss_kib * 1024.0);
	}
	return true;
}

static int report(uint32_t pid, unsigned int secs)
{
	struct trend t = {0};
	struct health_report r;
	struct config c;
	struct health_thresholds th;
	struct json_object *o;
	int err;

	config__defaults(&c);
	th = (struct health_thresholds){c.mem_warning_mb, c.mem_critical_mb, c.mem_warning_percent,
					c.mem_critical_percent};
	err = secs ? trend__init(&t, secs + 1) : 0;
	if (!err && secs && !sample(pid, secs, &t))
		err = -ESRCH;
	if (!err)
		err = health__report(NULL, pid, NULL, &r);
	if (!err && secs)
		r.has_fit = !trend__fit(&t, INT64_MIN, &r.fit);
	if (!err) {
		health_report__evaluate(&r, &th);
		o = health_report__json(&r);
		err = o ? 0 : -ENOMEM;
		if (o)
			printf("%s\n", json_object_to_json_string_ext(
					   o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
		json_object_put(o);
	}
	trend__fini(&t);
	config__free(&c);
	return err;
}

int health_cli__main(int argc, char **argv)
{
	unsigned int secs;
	uint32_t pid;
	int rc = parse_args(argc, argv, &pid, &secs), err;

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	err = report(pid, secs);
	if (!err)
		return EXIT_OK;
	if (err == -ESRCH || err == -ENOENT)
		fprintf(stderr, "bpfprof: no process with PID %" PRIu32 "\n", pid);
	else if (err == -ENODATA)
		fprintf(stderr, "bpfprof: PID %" PRIu32 " has no user memory (kernel thread)\n",
			pid);
	else if (err == -EACCES)
		fprintf(stderr,
			"bpfprof: cannot read /proc/%" PRIu32 "/status: permission denied\n", pid);
	else
		fprintf(stderr, "bpfprof: health of PID %" PRIu32 ": %s\n", pid, strerror(-err));
	return EXIT_RUNTIME;
}
