// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "symbolizer/demangle.h"

static void expect(const char *mangled, const char *want)
{
	char *got = demangle__name(mangled);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_cxx(void **state)
{
	(void)state;
	expect("_ZN3foo3barEv", "foo::bar()");
	expect("_Z1fi", "f(int)");
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi",
	       "std::vector<int, std::allocator<int> >::push_back(int const&)");
	expect("_ZN2ns5KlassC2Ev", "ns::Klass::Klass()");
}

static void test_rust(void **state)
{
	(void)state;
	/* legacy: the hash is dropped */
	expect("_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write");
	expect("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h1234567890abcdefE",
	       "std::rt::lang_start::{{closure}}");
	/* v0 */
	expect("_RNvCs15kBYyAo9fc_7mycrate7example", "mycrate::example");
}

static void test_plain(void **state)
{
	(void)state;
	expect("main", NULL);
	expect("schedule", NULL);
	expect("_start", NULL);
	expect("", NULL);
	expect(NULL, NULL);
	/* looks mangled, is not */
	expect("_Zfoo", NULL);
	assert_true(demangle__is_mangled("_ZN3foo3barEv"));
	assert_false(demangle__is_mangled("__libc_start_main"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cxx),
	    cmocka_unit_test(test_rust),
	    cmocka_unit_test(test_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
