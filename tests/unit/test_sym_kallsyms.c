// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolizer/kallsyms.h"
#include "symbolizer/symbolizer.h"

/* Out of order, with data symbols, aliases, duplicates, modules and zeros. */
static const char fixture[] = "ffffffff81000000 T _stext\n"
			      "ffffffff81000000 T startup_64\n"
			      "ffffffff81001000 t early_helper\n"
			      "ffffffff81002000 D some_data\n"
			      "ffffffff81003000 W weak_fn\n"
			      "ffffffff81001800 t local_alias\n"
			      "ffffffff81001800 T global_alias\n"
			      "ffffffff81004000 T dup_name\n"
			      "ffffffff81004000 T dup_name\n"
			      "ffffffff81005000 T dup_name\n"
			      "0000000000000000 T hidden_fn\n"
			      "ffffffffc0a00000 t nft_do_chain\t[nf_tables]\n"
			      "ffffffffc0a00400 T nft_register\t[nf_tables]\n"
			      "ffffffffc0b00000 t ext4_fn\t[ext4]\n"
			      "ffffffffc0b00100 b ext4_bss\t[ext4]\n"
			      "not a line\n";

static const char zeros[] = "0000000000000000 T _stext\n"
			    "0000000000000000 T schedule\n"
			    "0000000000000000 t helper\t[mod]\n";

static char fx_path[64], zero_path[64];

static void write_tmp(char *path, const char *text)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/test_sym_ksyms.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	write_tmp(fx_path, fixture);
	write_tmp(zero_path, zeros);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(fx_path);
	unlink(zero_path);
	return 0;
}

static void expect(const struct kallsyms *k, uint64_t addr, const char *name, const char *mod,
		   uint64_t start)
{
	const char *m = "unset";
	uint64_t s = 0;
	const char *n = kallsyms__find(k, addr, &m, &s);

	if (!name) {
		assert_null(n);
		return;
	}
	assert_non_null(n);
	assert_string_equal(n, name);
	if (mod)
		assert_string_equal(m, mod);
	else
		assert_null(m);
	assert_int_equal(s, start);
}

static void test_fixture_lookup(void **state)
{
	struct kallsyms *k = kallsyms__load(fx_path);

	(void)state;
	assert_non_null(k);
	/* 1 zero skipped; data/bss dropped; one per address */
	assert_int_equal(kallsyms__nr_zero(k), 1);
	assert_int_equal(kallsyms__nr(k), 9);
	expect(k, 0xffffffff80ffffffULL, NULL, NULL, 0);
	expect(k, 0xffffffff81000000ULL, "_stext", NULL, 0xffffffff81000000ULL);
	expect(k, 0xffffffff81000fffULL, "_stext", NULL, 0xffffffff81000000ULL);
	expect(k, 0xffffffff81001000ULL, "early_helper", NULL, 0xffffffff81001000ULL);
	/* global wins over local at one address */
	expect(k, 0xffffffff81001801ULL, "global_alias", NULL, 0xffffffff81001800ULL);
	/* data symbols are not text: the address belongs to the text before */
	expect(k, 0xffffffff81002010ULL, "global_alias", NULL, 0xffffffff81001800ULL);
	expect(k, 0xffffffff81003004ULL, "weak_fn", NULL, 0xffffffff81003000ULL);
	expect(k, 0xffffffff81004004ULL, "dup_name", NULL, 0xffffffff81004000ULL);
	expect(k, 0xffffffff81005004ULL, "dup_name", NULL, 0xffffffff81005000ULL);
	expect(k, 0xffffffffc0a00010ULL, "nft_do_chain", "nf_tables", 0xffffffffc0a00000ULL);
	expect(k, 0xffffffffc0a00400ULL, "nft_register", "nf_tables", 0xffffffffc0a00400ULL);
	expect(k, 0xffffffffc0b00200ULL, "ext4_fn", "ext4", 0xffffffffc0b00000ULL);
	/* far past the last symbol is nothing */
	expect(k, 0xffffffffc0b00000ULL + KALLSYMS_TAIL, NULL, NULL, 0);
	kallsyms__free(k);
}

static void test_all_zero(void **state)
{
	(void)state;
	errno = 0;
	assert_null(kallsyms__load(zero_path));
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_null(kallsyms__load("/nonexistent/kallsyms"));
	assert_int_equal(errno, ENOENT);
	kallsyms__free(NULL);
	assert_null(kallsyms__find(NULL, 1, NULL, NULL));
}

static void test_symbolizer_fixture(void **state)
{
	struct symbolizer_opts o = {.kallsyms = fx_path};
	struct symbolizer *s = symbolizer__new(&o);
	struct sym_result r;

	(void)state;
	assert_non_null(s);
	assert_int_equal(symbolizer__kernel(s, 0xffffffffc0a00402ULL, &r), 0);
	assert_string_equal(r.func, "nft_register");
	assert_string_equal(r.mangled, "nft_register");
	assert_string_equal(r.map_path, "[kernel.kallsyms]");
	assert_non_null(r.build_id);
	assert_int_equal(symbolizer__kernel(s, 0x1000, &r), -ENOENT);
	assert_null(r.func);
	assert_false(symbolizer__kernel_restricted(s));
	symbolizer__free(s);

	o.kallsyms = zero_path;
	s = symbolizer__new(&o);
	assert_non_null(s);
	assert_int_equal(symbolizer__kernel(s, 0xffffffff81000000ULL, &r), -ENOENT);
	assert_true(symbolizer__kernel_restricted(s));
	symbolizer__free(s);
}

/* The address of name as read from the file by a plain scan. */
static uint64_t grep_kallsyms(const char *name)
{
	char line[512], sym[256], type;
	uint64_t addr, found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name) && (type == 'T' || type == 't')) {
			found = addr;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_real_kallsyms(void **state)
{
	uint64_t addr = grep_kallsyms("schedule");
	struct symbolizer *s;
	struct sym_result r;
	char hex[80];

	(void)state;
	if (!addr)
		skip(); /* kptr_restrict hides addresses from us */
	s = symbolizer__new(NULL);
	assert_non_null(s);
	assert_int_equal(symbolizer__kernel(s, addr + 1, &r), 0);
	assert_string_equal(r.func, "schedule");
	/* the kernel's build-id, when it has one, is 40 hex digits */
	if (!kallsyms__kernel_build_id("/sys/kernel/notes", hex, sizeof(hex)))
		assert_int_equal(strlen(r.build_id), strlen(hex));
	symbolizer__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture_lookup),
	    cmocka_unit_test(test_all_zero),
	    cmocka_unit_test(test_symbolizer_fixture),
	    cmocka_unit_test(test_real_kallsyms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
