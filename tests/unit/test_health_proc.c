// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /proc and cgroup parsing (user/health/procmem.h) on fixture files written
 * into a temp tree laid out like /proc and /sys/fs/cgroup (v2, and v1 for
 * hybrid hosts), and the thresholds, warnings and JSON of a health report.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include <cmocka.h>

#include "config/config.h"
#include "health/health.h"
#include "health/procmem.h"
#include "serve/health_json.h"

#define MIB (1024.0 * 1024.0)

static const char status_text[] = "Name:\tmem leak (x)\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "Tgid:\t4242\n"
				  "VmPeak:\t  215316 kB\n"
				  "VmSize:\t  215312 kB\n"
				  "VmHWM:\t   81664 kB\n"
				  "VmRSS:\t   81664 kB\n"
				  "RssAnon:\t   79616 kB\n"
				  "RssFile:\t    1792 kB\n"
				  "RssShmem:\t     256 kB\n"
				  "VmSwap:\t     512 kB\n"
				  "Threads:\t3\n";

static const char smaps_text[] = "55d0c0000000-7ffc00000000 ---p 00000000 00:00 0 [rollup]\n"
				 "Rss:               81664 kB\n"
				 "Pss:               80123 kB\n"
				 "Pss_Anon:          79616 kB\n";

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/bpfprof-health-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_status(void **state)
{
	struct procmem m;
	uint64_t pss;

	(void)state;
	assert_int_equal(procmem__parse_status(status_text, &m), 0);
	assert_int_equal(m.rss_kib, 81664);
	assert_int_equal(m.vm_kib, 215312); /* VmSize, not VmPeak */
	assert_int_equal(m.shared_kib, 1792 + 256);
	assert_int_equal(m.swap_kib, 512);
	assert_int_equal(m.threads, 3);
	assert_string_equal(m.comm, "mem leak (x)");
	assert_false(m.has_pss);
	assert_int_equal(procmem__parse_smaps_rollup(smaps_text, &pss), 0);
	assert_int_equal(pss, 80123); /* Pss, not Pss_Anon */
	assert_int_equal(procmem__parse_smaps_rollup("Rss: 1 kB\n", &pss), -ENODATA);
}

static void test_parse_status_odd(void **state)
{
	struct procmem m;

	(void)state;
	assert_int_equal(procmem__parse_status("Name:\tz\nState:\tZ (zombie)\nThreads:\t1\n", &m),
			 -ESRCH);
	/* Kernel threads have no Vm* lines. */
	assert_int_equal(procmem__parse_status("Name:\tkthreadd\nState:\tS (sleeping)\n", &m),
			 -ENODATA);
	assert_int_equal(procmem__parse_status("", &m), -ENODATA);
	/* A key that is only a prefix of another must not match ("VmRSSx"). */
	assert_int_equal(procmem__parse_status("State:\tR\nVmRSSx:\t5 kB\n", &m), -ENODATA);
}

static const char *proc_dir(void)
{
	static char p[PATH_MAX + 8];

	snprintf(p, sizeof(p), "%s/proc", root);
	return p;
}

static void test_read_fixture(void **state)
{
	struct procmem m;

	(void)state;
	put("proc/4242/status", status_text);
	put("proc/4242/smaps_rollup", smaps_text);
	put("proc/4243/status", status_text); /* no smaps_rollup: Pss left out */
	assert_int_equal(procmem__read(proc_dir(), 4242, &m), 0);
	assert_true(m.has_pss);
	assert_int_equal(m.pss_kib, 80123);
	assert_int_equal(procmem__read(proc_dir(), 4243, &m), 0);
	assert_false(m.has_pss);
	assert_int_equal(m.rss_kib, 81664);
	assert_int_equal(procmem__read(proc_dir(), 999, &m), -ESRCH);
}

static void test_cgroup_parsers(void **state)
{
	char p[64];
	uint64_t b;

	(void)state;
	assert_int_equal(cgroup__parse_path("0::/user.slice/app.service\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/user.slice/app.service");
	assert_int_equal(cgroup__parse_path("12:pids:/x\n0::/\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(cgroup__parse_path("4:memory:/x\n", p, sizeof(p)), -ENOENT);
	assert_int_equal(cgroup__parse_path("0::relative\n", p, sizeof(p)), -ENOENT);
	assert_int_equal(
	    cgroup__parse_v1_path("5:devices:/\n4:cpu,memory:/a/b\n0::/\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/a/b");
	assert_int_equal(cgroup__parse_v1_path("4:memoryx:/a\n", p, sizeof(p)), -ENOENT);
	assert_int_equal(cgroup__parse_max("max\n", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cgroup__parse_max("104857600\n", &b), 0);
	assert_int_equal(b, 104857600);
	assert_int_equal(cgroup__parse_max("-1\n", &b), -EINVAL);
	assert_int_equal(cgroup__parse_max("12abc\n", &b), -EINVAL);
	assert_int_equal(cgroup__parse_max("", &b), -EINVAL);
	assert_int_equal(cgroup__parse_limit_in_bytes("9223372036854771712\n", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cgroup__parse_limit_in_bytes("2097152\n", &b), 0);
	assert_int_equal(b, 2097152);
}

static uint64_t limit_of(uint32_t pid)
{
	char proc[PATH_MAX + 8], cg[PATH_MAX + 8];
	uint64_t b = 1;

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	assert_int_equal(cgroup__memory_limit(proc, cg, pid, &b), 0);
	return b;
}

static void test_cgroup_limit_walk(void **state)
{
	char proc[PATH_MAX + 8], cg[PATH_MAX + 8];
	uint64_t b;

	(void)state;
	/* v2: the nearest limited ancestor of /a/b/c is /a. */
	put("proc/10/cgroup", "0::/a/b/c\n");
	put("cg/a/memory.max", "1048576\n");
	put("cg/a/b/memory.max", "max\n");
	put("cg/a/b/c/memory.current", "0\n");
	assert_int_equal(limit_of(10), 1048576);
	/* Its own limit wins over the ancestor's. */
	put("proc/11/cgroup", "0::/a/b/d\n");
	put("cg/a/b/d/memory.max", "524288\n");
	assert_int_equal(limit_of(11), 524288);
	/* Nothing limited: 0. */
	put("proc/12/cgroup", "0::/free/x\n");
	put("cg/free/memory.max", "max\n");
	assert_int_equal(limit_of(12), 0);
	/* Hybrid host: v1 memory controller. */
	put("proc/13/cgroup", "4:memory:/v1/y\n0::/\n");
	put("cg/memory/v1/memory.limit_in_bytes", "2097152\n");
	put("cg/memory/v1/y/memory.limit_in_bytes", "9223372036854771712\n");
	assert_int_equal(limit_of(13), 2097152);
	/* A path walking out of the tree is refused. */
	put("proc/14/cgroup", "0::/a/../../etc\n");
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	assert_int_equal(cgroup__memory_limit(proc, cg, 14, &b), -EINVAL);
	/* No such PID: no limit known, no error. */
	assert_int_equal(limit_of(15), 0);
}

/* ---- report ---- */

static struct health_report report_of(double rss_mb, double limit_mb)
{
	struct health_report r = {.pid = 1, .t_ns = 1700000000LL * 1000000000LL};

	r.mem.rss_kib = rss_mb * 1024;
	r.limit_bytes = limit_mb * MIB;
	snprintf(r.mem.comm, sizeof(r.mem.comm), "app");
	return r;
}

static bool has_warning(const struct health_report *r, const char *needle)
{
	for (size_t i = 0; i < r->n_warnings; i++)
		if (strstr(r->warnings[i], needle))
			return true;
	return false;
}

static void test_thresholds(void **state)
{
	const struct health_thresholds th = {800, 1000, 80, 95};
	const struct health_thresholds off = {0, 0, 0, 0};
	struct health_report r;

	(void)state;
	r = report_of(500, 0);
	health_report__evaluate(&r, &th);
	assert_int_equal(r.status, HEALTH_NORMAL);
	assert_int_equal(r.n_warnings, 0);
	r = report_of(800, 0);
	health_report__evaluate(&r, &th);
	assert_int_equal(r.status, HEALTH_WARNING);
	assert_true(has_warning(&r, "warning threshold of 800 MB"));
	r = report_of(1000, 0);
	health_report__evaluate(&r, &th);
	assert_int_equal(r.status, HEALTH_CRITICAL);
	/* Percent of the cgroup limit: 850 of 1000 MB is 85 %. */
	r = report_of(850, 1000);
	health_report__evaluate(&r, &(struct health_thresholds){0, 0, 80, 95});
	assert_int_equal(r.status, HEALTH_WARNING);
	assert_true(has_warning(&r, "85.0% of the cgroup memory limit"));
	r = report_of(960, 1000);
	health_report__evaluate(&r, &(struct health_thresholds){0, 0, 80, 95});
	assert_int_equal(r.status, HEALTH_CRITICAL);
	/* Everything off. */
	r = report_of(960, 1000);
	health_report__evaluate(&r, &off);
	assert_int_equal(r.status, HEALTH_NORMAL);
}

static void test_growth_and_swap_warn(void **state)
{
	const struct health_thresholds th = {0, 0, 80, 95};
	struct health_report r = report_of(100, 1000);

	(void)state;
	r.has_fit = true;
	r.fit =
	    (struct trend_fit){.n = 10, .slope = MIB, .r2 = 0.99, .span_s = 9, .mean = 95 * MIB};
	r.mem.swap_kib = 2048;
	health_report__evaluate(&r, &th);
	assert_true(r.sustained);
	assert_int_equal(r.status, HEALTH_NORMAL); /* growth warns; thresholds set the status */
	assert_true(has_warning(&r, "sustained growth of 1.000 MB/s"));
	assert_true(has_warning(&r, "limit is reached in about 900 s"));
	assert_true(has_warning(&r, "2.0 MB swapped out"));
}

static void test_json(void **state)
{
	struct health_report r = report_of(100, 0);
	struct json_object *o, *v;

	(void)state;
	r.mem.threads = 4;
	health_report__evaluate(&r, &(struct health_thresholds){0});
	o = health_report__json(&r);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "rss_mb", &v));
	assert_float_equal(json_object_get_double(v), 100, 1e-9);
	/* Unknown figures are null, not 0. */
	assert_true(json_object_object_get_ex(o, "pss_mb", &v) && !v);
	assert_true(json_object_object_get_ex(o, "heap_inuse_mb", &v) && !v);
	assert_true(json_object_object_get_ex(o, "growth_rate_mb_per_sec", &v) && !v);
	assert_true(json_object_object_get_ex(o, "memory_limit_mb", &v) && !v);
	assert_true(json_object_object_get_ex(o, "threshold_status", &v));
	assert_string_equal(json_object_get_string(v), "normal");
	assert_true(json_object_object_get_ex(o, "warnings", &v) &&
		    json_object_is_type(v, json_type_array));
	for (const char *const *k = (const char *const[]){"timestamp", "virtual_mb", "shared_mb",
							  "swap_mb", "threads", NULL};
	     *k; k++)
		assert_true(json_object_object_get_ex(o, *k, NULL));
	json_object_put(o);
	r.has_heap = true;
	r.heap_inuse_bytes = 3 * MIB;
	o = health_report__json(&r);
	assert_true(json_object_object_get_ex(o, "heap_inuse_mb", &v));
	assert_float_equal(json_object_get_double(v), 3, 1e-9);
	json_object_put(o);
}

/* ---- configuration keys of memory health ---- */

static int load(struct config *c, char **argv, int argc, char **envp, char *err)
{
	config__defaults(c);
	return config__load(c, argc, argv, envp, err, 256);
}

static void test_config_keys(void **state)
{
	char *argv[] = {"serve",
			"--watch-pid",
			"10,11",
			"--watch-pid=12",
			"--mem-warning-mb",
			"800",
			"--mem-critical-percent",
			"90.5",
			"--leak-min-age",
			"2m",
			"--auto-snapshot-severity",
			"high",
			"--trend-window",
			"30s",
			NULL};
	char *envp[] = {"BPFPROF_WATCH_PID=1", "BPFPROF_SNAPSHOT_KEEP=3", NULL};
	char err[256] = "";
	struct config c;

	(void)state;
	config__defaults(&c);
	assert_int_equal(c.mem_warning_mb, 0);
	assert_float_equal(c.mem_warning_percent, 80, 0);
	assert_float_equal(c.mem_critical_percent, 95, 0);
	assert_int_equal(c.leak_min_age_s, 60);
	assert_int_equal(c.snapshot_keep, 20);
	assert_int_equal(c.snapshot_cooldown_s, 600);
	assert_int_equal(c.auto_snapshot_severity, 4); /* critical */
	assert_int_equal(c.trend_window_s, 300);
	assert_int_equal(load(&c, argv, 14, envp, err), 0);
	/* Flags replace the environment's list; repeats within flags add. */
	assert_int_equal(c.n_watch_pids, 3);
	assert_int_equal(c.watch_pids[2], 12);
	assert_int_equal(c.n_heap_pids, 0); /* watch_pid does not touch heap_pid */
	assert_int_equal(c.mem_warning_mb, 800);
	assert_float_equal(c.mem_critical_percent, 90.5, 1e-9);
	assert_int_equal(c.leak_min_age_s, 120);
	assert_int_equal(c.auto_snapshot_severity, 3);
	assert_int_equal(c.trend_window_s, 30);
	assert_int_equal(c.snapshot_keep, 3);
	assert_int_equal(config__validate(&c, err, sizeof(err)), 0);
	config__free(&c);
}

static void test_config_key_errors(void **state)
{
	char *sev[] = {"serve", "--auto-snapshot-severity", "severe", NULL};
	char *pct[] = {"serve", "--mem-warning-percent", "101", NULL};
	char *order[] = {"serve", "--mem-warning-mb", "900", "--mem-critical-mb", "800", NULL};
	char *pid[] = {"serve", "--watch-pid", "1,x", NULL};
	char err[256] = "";
	struct config c;

	(void)state;
	assert_int_equal(load(&c, sev, 3, NULL, err), -EINVAL);
	assert_non_null(strstr(err, "auto_snapshot_severity"));
	config__free(&c);
	assert_int_equal(load(&c, pct, 3, NULL, err), -EINVAL);
	assert_non_null(strstr(err, "mem_warning_percent"));
	config__free(&c);
	assert_int_equal(load(&c, pid, 3, NULL, err), -EINVAL);
	assert_non_null(strstr(err, "watch_pid"));
	config__free(&c);
	assert_int_equal(load(&c, order, 5, NULL, err), 0);
	assert_int_equal(config__validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mem_warning_mb (900) is above mem_critical_mb (800)"));
	config__free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_status),
	    cmocka_unit_test(test_parse_status_odd),
	    cmocka_unit_test_setup_teardown(test_read_fixture, setup, teardown),
	    cmocka_unit_test(test_cgroup_parsers),
	    cmocka_unit_test_setup_teardown(test_cgroup_limit_walk, setup, teardown),
	    cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_growth_and_swap_warn),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_config_keys),
	    cmocka_unit_test(test_config_key_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
