// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

/* Every '@' in a test string stands for this scratch directory. */
static char dir[] = "/tmp/bpfprof-config-XXXXXX";

enum stage { LOAD, VALIDATE };

struct run {
	const char *file; /* config file text, passed with --config; NULL: none */
	const char *env[6];
	const char *argv[8]; /* after the "serve" subcommand */
};

struct bad {
	struct run r;
	enum stage stage;
	const char *want[2]; /* substrings of the error */
};

static char *expand(const char *s)
{
	size_t n = strlen(s) + 1, i;
	char *out, *o;

	for (i = 0; s[i]; i++)
		n += s[i] == '@' ? strlen(dir) : 0;
	out = malloc(n);
	assert_non_null(out);
	for (o = out; *s; s++) {
		if (*s == '@')
			o = stpcpy(o, dir);
		else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char *path = expand(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static void free_strs(char **v)
{
	size_t i;

	for (i = 0; v[i]; i++)
		free(v[i]);
}

/* Loads (and optionally validates) c from r; returns the first non-zero result. */
static int run(struct config *c, const struct run *r, enum stage stage, char *err, size_t len)
{
	char *argv[12] = {"serve"}, *envp[8] = {NULL}, *file = NULL;
	int argc = 1, ret;
	size_t i;

	err[0] = '\0';
	config__defaults(c);
	if (r->file) {
		write_file("@/test.conf", r->file, 0600);
		file = expand("--config=@/test.conf");
		argv[argc++] = file;
	}
	for (i = 0; r->argv[i]; i++)
		argv[argc++] = expand(r->argv[i]);
	for (i = 0; r->env[i]; i++)
		envp[i] = expand(r->env[i]);
	ret = config__load(c, argc, argv, envp, err, len);
	if (!ret && stage == VALIDATE)
		ret = config__validate(c, err, len);
	free_strs(argv + 1);
	free_strs(envp);
	return ret;
}

static int nftw_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char big[6000];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file("@/key600", "  secret-key-123\r\n\n", 0600);
	write_file("@/key644", "k644\n", 0644);
	write_file("@/keyempty", " \n\t\n", 0600);
	write_file("@/keyspace", "two words\n", 0600);
	write_file("@/keybig", big, 0600);
	write_file("@/cert.pem", "cert\n", 0600);
	write_file("@/tls.key", "key\n", 0600);
	write_file("@/afile", "x\n", 0600);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, nftw_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_defaults(void **state)
{
	struct config c;

	(void)state;
	config__defaults(&c);
	assert_string_equal(c.listen_addr, "127.0.0.1");
	assert_int_equal(c.listen_port, 6060);
	assert_int_equal(c.freq_hz, 99);
	assert_false(c.no_kernel);
	assert_int_equal(c.window_s, 10);
	assert_int_equal(c.retention_s, 900);
	assert_int_equal(c.store_mb, 64);
	assert_null(c.data_dir);
	assert_int_equal(c.data_max_files, 1000);
	assert_int_equal(c.data_max_mb, 256);
	assert_int_equal(c.max_seconds, 300);
	assert_null(c.api_key_file);
	assert_null(c.api_key);
	assert_false(c.insecure_allow_remote);
	assert_null(c.tls_cert);
	assert_null(c.tls_key);
	assert_true(c.rate_limit == 20.0);
	assert_true(c.rate_burst == 40.0);
	assert_int_equal(c.max_long_requests, 4);
	assert_int_equal(c.max_connections, 256);
	assert_null(c.log_file);
	assert_int_equal(c.n_heap_pids, 0);
	assert_int_equal(c.heap_mode, 0); /* auto */
	assert_true(c.heap_auto_enroll);
	assert_true(config__is_loopback(&c));
	/* Defaults alone must pass validation. */
	assert_int_equal(config__validate(&c, NULL, 0), 0);
	config__free(&c);
	config__free(NULL);
}

static void test_layers(void **state)
{
	const struct run r = {
	    .file = "freq = 10\nwindow = 20\nlisten = 127.0.0.2:1\ndata_dir = /f\n"
		    "store_mb = 5\n",
	    .env = {"BPFPROF_FREQ=11", "BPFPROF_WINDOW=21", "BPFPROF_DATA_DIR=/e", "PATH=/bin",
		    "BPFPROF_NO_KERNEL=yes"},
	    .argv = {"--freq", "12", "--data-dir=/a", "--max-connections=7"},
	};
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(run(&c, &r, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 12);		 /* flag beats env and file */
	assert_int_equal(c.window_s, 21);		 /* env beats file */
	assert_string_equal(c.listen_addr, "127.0.0.2"); /* file beats default */
	assert_int_equal(c.listen_port, 1);
	assert_string_equal(c.data_dir, "/a");
	assert_int_equal(c.store_mb, 5);
	assert_true(c.no_kernel);
	assert_int_equal(c.max_connections, 7);
	config__free(&c);
}

static void test_heap_pid_layers(void **state)
{
	const struct run file_only = {.file = "heap_pid = 1,2\nheap_pid = 3\nheap-pid=2\n"};
	const struct run env = {.file = "heap_pid = 1,2\n", .env = {"BPFPROF_HEAP_PID=4,5"}};
	const struct run flags = {.file = "heap_pid = 1\n",
				  .env = {"BPFPROF_HEAP_PID=4"},
				  .argv = {"--heap-pid", "6", "--heap-pid=7,8"}};
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(run(&c, &file_only, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.n_heap_pids, 3); /* repeats add within a layer; dups dropped */
	assert_int_equal(c.heap_pids[2], 3);
	assert_int_equal(run(&c, &env, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.n_heap_pids, 2); /* a later layer replaces the list */
	assert_int_equal(c.heap_pids[0], 4);
	assert_int_equal(c.heap_pids[1], 5);
	assert_int_equal(run(&c, &flags, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.n_heap_pids, 3);
	assert_int_equal(c.heap_pids[0], 6);
	assert_int_equal(c.heap_pids[2], 8);
	config__free(&c);
}

static void test_heap_mode(void **state)
{
	const struct run file = {.file = "heap_mode = preload\n"};
	const struct run flag = {.file = "heap_mode = preload\n", .argv = {"--heap-mode=uprobe"}};
	const struct run env = {.env = {"BPFPROF_HEAP_MODE=auto"}, .argv = {"--heap-mode", "preload"}};
	const struct run off = {.file = "heap_auto_enroll = false\n"};
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(run(&c, &file, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.heap_mode, 1);
	config__free(&c);
	assert_int_equal(run(&c, &flag, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.heap_mode, 2);
	config__free(&c);
	assert_int_equal(run(&c, &env, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.heap_mode, 1);
	config__free(&c);
	assert_int_equal(run(&c, &off, LOAD, err, sizeof(err)), 0);
	assert_false(c.heap_auto_enroll);
	config__free(&c);
}

static void test_heap_pid_too_many(void **state)
{
	char list[1024] = "", *argv[] = {"serve", "--heap-pid", list}, err[256];
	struct config c;
	int i;

	(void)state;
	for (i = 1; i <= CONFIG_MAX_HEAP_PIDS + 1; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i > 1 ? "," : "",
			 i);
	config__defaults(&c);
	assert_int_equal(config__load(&c, 3, argv, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "heap_pid"));
	assert_non_null(strstr(err, "--heap-pid"));
	config__free(&c);
}

static void test_config_path(void **state)
{
	char *env[] = {NULL, NULL}, *argv[] = {"serve", NULL}, err[256];
	struct config c;

	(void)state;
	write_file("@/env.conf", "freq = 33\n", 0600);
	write_file("@/flag.conf", "freq = 44\n", 0600);
	env[0] = expand("BPFPROF_CONFIG=@/env.conf");
	argv[1] = expand("--config=@/flag.conf");
	config__defaults(&c);
	assert_int_equal(config__load(&c, 1, argv, env, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 33);
	assert_int_equal(config__load(&c, 2, argv, env, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 44); /* --config wins over BPFPROF_CONFIG */
	free(env[0]);
	free(argv[1]);
	config__free(&c);
}

static void test_ignored_env(void **state)
{
	char *env[] = {"BPFPROF_HTTP_LOG=1",
		       "BPFPROF_TEST_WHATEVER=x",
		       "BPFPROF_CONFIG=",
		       "BPFPROF_NOEQUALS",
		       "HOME=/root",
		       "bpfprof_freq=1",
		       NULL};
	char *argv[] = {"serve"}, err[256];
	struct config c;

	(void)state;
	config__defaults(&c);
	assert_int_equal(config__load(&c, 1, argv, env, err, sizeof(err)), 0);
	assert_int_equal(config__load(&c, 1, argv, NULL, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 99);
	config__free(&c);
}

static void test_help(void **state)
{
	char *help1[] = {"serve", "--help"}, *help2[] = {"serve", "--bogus", "-h"};
	char *not_help[] = {"serve", "--log-file", "-h"}, err[256];
	struct config c;

	(void)state;
	config__defaults(&c);
	assert_int_equal(config__load(&c, 2, help1, NULL, err, sizeof(err)), 1);
	strcpy(err, "untouched");
	assert_int_equal(config__load(&c, 3, help2, NULL, err, sizeof(err)), 1);
	assert_string_equal(err, "");
	/* "-h" as the value of a flag is a value, not a request for help. */
	assert_int_equal(config__load(&c, 3, not_help, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.log_file, "-h");
	config__free(&c);
}

static void test_file_format(void **state)
{
	const struct run r = {
	    .file = "# comment\n"
		    "\n"
		    "   \t\n"
		    "  freq\t=\t123   # trailing comment\n"
		    "data-dir = \"/with #hash\"   # dashes and quotes\n"
		    "log_file=/a#b\r\n"
		    "tls_cert = \"  spaced \"\n"
		    "api_key_file = /k # \"not a quote\n"
		    "   no_kernel = YES\n"
		    "window = 2m\n"
		    "retention=\"1h\"\n",
	};
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(run(&c, &r, LOAD, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 123);
	assert_string_equal(c.data_dir, "/with #hash");
	assert_string_equal(c.log_file, "/a#b");
	assert_string_equal(c.tls_cert, "  spaced ");
	assert_string_equal(c.api_key_file, "/k");
	assert_true(c.no_kernel);
	assert_int_equal(c.window_s, 120);
	assert_int_equal(c.retention_s, 3600);
	config__free(&c);
}

static void test_good_values(void **state)
{
	const struct run r = {
	    .env = {"BPFPROF_INSECURE_ALLOW_REMOTE=1", "BPFPROF_RATE_LIMIT=0",
		    "BPFPROF_RATE_BURST=2.5", "BPFPROF_MAX_SECONDS=1h", "BPFPROF_HEAP_BUDGET=0.01"},
	    .argv = {"-F100000", "--listen=[0:0::1]:0", "--window", "3600", "--retention=60m",
		     "--no-kernel=0", "--store-mb=65536"},
	};
	const struct run r2 = {.argv = {"-F", "1", "--listen", "localhost:65535", "--window=1s",
					"--insecure-allow-remote", "--no-kernel"}};
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(run(&c, &r, VALIDATE, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 100000);
	assert_string_equal(c.listen_addr, "::1");
	assert_int_equal(c.listen_port, 0);
	assert_int_equal(c.window_s, 3600);
	assert_int_equal(c.retention_s, 3600);
	assert_int_equal(c.max_seconds, 3600);
	assert_false(c.no_kernel);
	assert_true(c.insecure_allow_remote);
	assert_true(c.rate_limit == 0.0);
	assert_true(c.rate_burst == 2.5);
	assert_int_equal(c.store_mb, 65536);
	assert_true(c.heap_budget == 0.01);
	assert_int_equal(run(&c, &r2, VALIDATE, err, sizeof(err)), 0);
	assert_int_equal(c.freq_hz, 1);
	assert_string_equal(c.listen_addr, "127.0.0.1");
	assert_int_equal(c.listen_port, 65535);
	assert_int_equal(c.window_s, 1);
	assert_true(c.insecure_allow_remote);
	assert_true(c.no_kernel);
	config__free(&c);
}

static const struct bad bad[] = {
    /* unknown keys, flags and arguments in each source */
    {{.file = "windw = 5\n"}, LOAD, {"test.conf line 1: unknown key 'windw'"}},
    {{.file = "\n# c\nfreq = 99\nbogus\n"}, LOAD, {"line 4: expected 'key = value'", "bogus"}},
    {{.file = " = 5\n"}, LOAD, {"line 1: missing key"}},
    {{.file = "data_dir = \"/x\n"}, LOAD, {"line 1: unterminated quote"}},
    {{.file = "data_dir = \"/x\" y\n"}, LOAD, {"line 1: unexpected text 'y'"}},
    {{.file = "listen = 1.2.3.4\n"}, LOAD, {"line 1: invalid address '1.2.3.4' for listen"}},
    {{.env = {"BPFPROF_WINDW=5"}}, LOAD, {"environment BPFPROF_WINDW: unknown variable"}},
    {{.env = {"BPFPROF_Freq=5"}}, LOAD, {"environment BPFPROF_Freq: unknown variable"}},
    {{.env = {"BPFPROF_DATA-DIR=/x"}}, LOAD, {"BPFPROF_DATA-DIR: unknown variable"}},
    {{.argv = {"--windw", "5"}}, LOAD, {"--windw: unknown flag"}},
    {{.argv = {"--data_dir=/x"}}, LOAD, {"--data_dir: unknown flag"}},
    {{.argv = {"-x"}}, LOAD, {"-x: unknown flag"}},
    {{.argv = {"extra"}}, LOAD, {"unexpected argument 'extra'"}},
    {{.argv = {"--", "ls"}}, LOAD, {"unexpected argument 'ls'"}},
    {{.argv = {"--freq"}}, LOAD, {"--freq: missing value"}},
    {{.argv = {"-F"}}, LOAD, {"-F: missing value"}},
    {{.argv = {"--config"}}, LOAD, {"--config: missing value"}},
    {{.argv = {"--config=@/nope"}}, LOAD, {"config file ", "/nope: cannot open"}},
    /* numbers */
    {{.env = {"BPFPROF_FREQ=abc"}},
     LOAD,
     {"environment BPFPROF_FREQ: invalid value 'abc' for freq: expected a whole number "
      "1..100000"}},
    {{.argv = {"--freq=0"}}, LOAD, {"--freq: invalid value '0' for freq"}},
    {{.argv = {"--freq", "100001"}}, LOAD, {"'100001' for freq"}},
    {{.argv = {"-F", "-5"}}, LOAD, {"-F: invalid value '-5' for freq"}},
    {{.argv = {"-F+5"}}, LOAD, {"-F: invalid value '+5' for freq"}},
    {{.argv = {"--freq=99x"}}, LOAD, {"'99x' for freq"}},
    {{.argv = {"--freq= 99"}}, LOAD, {"' 99' for freq"}},
    {{.argv = {"--freq="}}, LOAD, {"'' for freq"}},
    {{.argv = {"--freq=99999999999999999999999"}}, LOAD, {"for freq"}},
    {{.argv = {"--store-mb=4294967296"}}, LOAD, {"for store_mb"}},
    {{.argv = {"--data-max-files=0"}}, LOAD, {"for data_max_files"}},
    {{.argv = {"--data-max-mb=1048577"}}, LOAD, {"for data_max_mb"}},
    {{.argv = {"--max-long-requests=1025"}}, LOAD, {"for max_long_requests"}},
    {{.env = {"BPFPROF_MAX_CONNECTIONS=-1"}}, LOAD, {"BPFPROF_MAX_CONNECTIONS", "max_connections"}},
    {{.argv = {"--rate-limit=-1"}}, LOAD, {"for rate_limit"}},
    {{.argv = {"--rate-limit=nan"}}, LOAD, {"for rate_limit"}},
    {{.argv = {"--rate-limit=inf"}}, LOAD, {"for rate_limit"}},
    {{.argv = {"--rate-limit=0x10"}}, LOAD, {"for rate_limit"}},
    {{.argv = {"--rate-limit=1e9"}}, LOAD, {"for rate_limit"}},
    {{.argv = {"--rate-limit=2.5.1"}}, LOAD, {"for rate_limit"}},
    {{.file = "rate_burst = 0\n"}, LOAD, {"line 1: invalid value '0' for rate_burst"}},
    /* a fractional lower bound must not be truncated to 0 (it was, as an integer) */
    {{.argv = {"--heap-budget=0"}},
     LOAD,
     {"--heap-budget: invalid value '0' for heap_budget: expected a number 0.01..100"}},
    {{.argv = {"--heap-budget=0.005"}}, LOAD, {"'0.005' for heap_budget"}},
    {{.file = "heap_mode = ebpf\n"},
     LOAD,
     {"line 1: invalid value 'ebpf' for heap_mode: expected auto, preload or uprobe"}},
    {{.argv = {"--heap-mode="}}, LOAD, {"--heap-mode", "for heap_mode"}},
    {{.file = "heap_auto_enroll = maybe\n"}, LOAD, {"line 1", "'maybe' for heap_auto_enroll"}},
    {{.env = {"BPFPROF_HEAP_MODE=Preload"}}, LOAD, {"BPFPROF_HEAP_MODE", "'Preload' for heap_mode"}},
    {{.argv = {"--heap-budget=100.5"}}, LOAD, {"'100.5' for heap_budget"}},
    /* durations */
    {{.argv = {"--window", "0"}},
     LOAD,
     {"--window: invalid value '0' for window: expected seconds 1..3600"}},
    {{.argv = {"--window=2h"}}, LOAD, {"'2h' for window"}},
    {{.argv = {"--window=5d"}}, LOAD, {"'5d' for window"}},
    {{.argv = {"--window=m"}}, LOAD, {"'m' for window"}},
    {{.argv = {"--window=18446744073709551615h"}}, LOAD, {"for window"}},
    {{.argv = {"--retention=-1"}}, LOAD, {"for retention"}},
    {{.argv = {"--max-seconds=1h1"}}, LOAD, {"for max_seconds"}},
    /* listen */
    {{.argv = {"--listen", "1.2.3:99999"}}, LOAD, {"--listen: invalid address '1.2.3:99999'"}},
    {{.argv = {"--listen=127.0.0.1:65536"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=127.0.0.1"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=127.0.0.1:"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=:80"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=::1:80"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=[::1:80"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=[127.0.0.1]:80"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=example.com:80"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=127.0.0.1:-1"}}, LOAD, {"for listen"}},
    {{.argv = {"--listen=127.0.0.1:80x"}}, LOAD, {"for listen"}},
    {{.env = {"BPFPROF_LISTEN=0.0.0.0:http"}}, LOAD, {"BPFPROF_LISTEN", "for listen"}},
    /* booleans, paths, pids */
    {{.file = "no_kernel = maybe\n"}, LOAD, {"'maybe' for no_kernel"}},
    {{.env = {"BPFPROF_INSECURE_ALLOW_REMOTE=2"}}, LOAD, {"for insecure_allow_remote"}},
    {{.argv = {"--no-kernel=perhaps"}}, LOAD, {"--no-kernel", "for no_kernel"}},
    {{.argv = {"--data-dir="}}, LOAD, {"--data-dir: invalid value '' for data_dir"}},
    {{.file = "log_file =\n"}, LOAD, {"for log_file"}},
    {{.argv = {"--heap-pid", "0"}}, LOAD, {"for heap_pid"}},
    {{.argv = {"--heap-pid=1,,2"}}, LOAD, {"for heap_pid"}},
    {{.argv = {"--heap-pid=1,"}}, LOAD, {"for heap_pid"}},
    {{.env = {"BPFPROF_HEAP_PID=1,x"}}, LOAD, {"BPFPROF_HEAP_PID", "for heap_pid"}},
    {{.argv = {"--heap-pid=4194305"}}, LOAD, {"for heap_pid"}},
    /* cross-key rules */
    {{.argv = {"--retention=5"}}, VALIDATE, {"retention (5 s) is shorter than window (10 s)"}},
    {{.env = {"BPFPROF_WINDOW=20m", "BPFPROF_RETENTION=15m"}}, VALIDATE, {"retention", "window"}},
    {{.argv = {"--tls-cert=@/cert.pem"}}, VALIDATE, {"tls_cert is set but tls_key is not"}},
    {{.file = "tls_key = @/tls.key\n"}, VALIDATE, {"tls_key is set but tls_cert is not"}},
    {{.argv = {"--tls-cert=@/nope", "--tls-key=@/tls.key"}},
     VALIDATE,
     {"tls_cert '", "cannot read"}},
    {{.argv = {"--tls-cert=@/cert.pem", "--tls-key=@/nope"}},
     VALIDATE,
     {"tls_key '", "cannot read"}},
    {{.argv = {"--api-key-file=@/nope"}}, VALIDATE, {"api_key_file '", "cannot read"}},
    {{.argv = {"--api-key-file=@"}}, VALIDATE, {"api_key_file '", "not a regular file"}},
    {{.argv = {"--api-key-file=@/keyempty"}}, VALIDATE, {"api_key_file '", "is empty"}},
    {{.argv = {"--api-key-file=@/keybig"}}, VALIDATE, {"api_key_file '", "larger than 4 KiB"}},
    {{.argv = {"--api-key-file=@/keyspace"}}, VALIDATE, {"api_key_file '", "spaces"}},
    {{.argv = {"--listen=0.0.0.0:6060"}},
     VALIDATE,
     {"refusing to listen on 0.0.0.0:6060 without an API key: set api_key_file or pass "
      "--insecure-allow-remote"}},
    {{.argv = {"--listen=[::]:6060"}}, VALIDATE, {"refusing to listen on [::]:6060"}},
    {{.file = "listen = 10.0.0.1:80\ninsecure_allow_remote = no\n"},
     VALIDATE,
     {"refusing to listen on 10.0.0.1:80"}},
    {{.argv = {"--data-dir=@/afile/sub"}}, VALIDATE, {"data_dir '", "cannot create"}},
    {{.argv = {"--data-dir=@/afile"}}, VALIDATE, {"data_dir '", "Not a directory"}},
};

static void test_bad(void **state)
{
	struct config c;
	char err[512];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = run(&c, &bad[i].r, bad[i].stage, err, sizeof(err));

		if (ret != -EINVAL)
			fail_msg("case %zu: returned %d, err '%s'", i, ret, err);
		for (j = 0; j < 2 && bad[i].want[j]; j++)
			if (!strstr(err, bad[i].want[j]))
				fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].want[j]);
		if (strchr(err, '\n'))
			fail_msg("case %zu: multi-line error '%s'", i, err);
		config__free(&c);
	}
	/* A NULL error buffer is allowed. */
	config__defaults(&c);
	assert_int_equal(config__load(&c, 2, (char *[]){"serve", "--freq=0"}, NULL, NULL, 0),
			 -EINVAL);
}

/* Validates with stderr captured into out. */
static int validate_capture(struct config *c, char *out, size_t len)
{
	char err[256], *path = expand("@/stderr");
	int saved = dup(STDERR_FILENO), fd, ret;
	ssize_t n;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	ret = config__validate(c, err, sizeof(err));
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	n = pread(fd, out, len - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	close(saved);
	free(path);
	return ret;
}

static void test_api_key(void **state)
{
	const struct run r600 = {.argv = {"--api-key-file", "@/key600", "--listen=0.0.0.0:0"}};
	const struct run r644 = {.env = {"BPFPROF_API_KEY_FILE=@/key644"}};
	struct config c;
	char err[256], out[512];

	(void)state;
	assert_int_equal(run(&c, &r600, LOAD, err, sizeof(err)), 0);
	assert_int_equal(validate_capture(&c, out, sizeof(out)), 0);
	assert_string_equal(c.api_key, "secret-key-123");
	assert_string_equal(out, "");
	assert_false(config__is_loopback(&c)); /* remote is fine with a key */
	/* Validating again reloads the key without leaking the old copy. */
	assert_int_equal(config__validate(&c, err, sizeof(err)), 0);
	assert_string_equal(c.api_key, "secret-key-123");
	config__free(&c);

	assert_int_equal(run(&c, &r644, LOAD, err, sizeof(err)), 0);
	assert_int_equal(validate_capture(&c, out, sizeof(out)), 0);
	assert_string_equal(c.api_key, "k644");
	assert_non_null(strstr(out, "warning"));
	assert_non_null(strstr(out, "api_key_file"));
	config__free(&c);
}

static void test_data_dir(void **state)
{
	const struct run r = {.argv = {"--data-dir=@/d1/d2/d3/"}};
	char *path = expand("@/d1/d2/d3"), err[256];
	struct config c;
	struct stat st;

	(void)state;
	assert_int_equal(run(&c, &r, VALIDATE, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* An existing directory is fine too. */
	assert_int_equal(config__validate(&c, err, sizeof(err)), 0);
	free(path);
	config__free(&c);
}

static void test_is_loopback(void **state)
{
	static const struct {
		const char *addr;
		bool loop;
	} t[] = {
	    {"127.0.0.1", true}, {"127.255.255.254", true},  {"128.0.0.1", false},
	    {"0.0.0.0", false},	 {"10.1.2.3", false},	     {"::1", true},
	    {"::", false},	 {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", false},
	    {"localhost", true}, {"fe80::1", false},
	};
	struct config c;
	size_t i;

	(void)state;
	config__defaults(&c);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		strcpy(c.listen_addr, t[i].addr);
		if (config__is_loopback(&c) != t[i].loop)
			fail_msg("%s: expected %d", t[i].addr, t[i].loop);
	}
}

static void test_listen_str(void **state)
{
	char *argv[] = {"serve", "--listen=[::1]:6060"}, buf[80], err[256];
	struct config c;

	(void)state;
	config__defaults(&c);
	config__listen_str(&c, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:6060");
	assert_int_equal(config__load(&c, 2, argv, NULL, err, sizeof(err)), 0);
	config__listen_str(&c, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:6060");
}

static void test_usage(void **state)
{
	static const char *const want[] = {
	    "Usage: bpfprof serve",
	    "--config FILE",
	    "BPFPROF_CONFIG",
	    "--listen ADDR:PORT",
	    "default 127.0.0.1:6060",
	    "--data-dir DIR",
	    "BPFPROF_DATA_DIR",
	    "--heap-pid",
	    "--insecure-allow-remote",
	    "key insecure_allow_remote",
	    "default 99",
	    "--help",
	};
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	config__usage(f);
	assert_int_equal(fclose(f), 0);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("usage lacks '%s'", want[i]);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_layers),
	    cmocka_unit_test(test_heap_pid_layers),
	    cmocka_unit_test(test_heap_mode),
	    cmocka_unit_test(test_heap_pid_too_many),
	    cmocka_unit_test(test_config_path),
	    cmocka_unit_test(test_ignored_env),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_file_format),
	    cmocka_unit_test(test_good_values),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_api_key),
	    cmocka_unit_test(test_data_dir),
	    cmocka_unit_test(test_is_loopback),
	    cmocka_unit_test(test_listen_str),
	    cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
