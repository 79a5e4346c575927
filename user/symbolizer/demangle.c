// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "symbolizer/demangle.h"

bool demangle__is_mangled(const char *name)
{
	return name && name[0] == '_' && (name[1] == 'Z' || name[1] == 'R');
}

/* "::h" + 16 hex digits ending the name: a Rust legacy hash left in. */
static void rust__drop_hash(char *s)
{
	size_t len = strlen(s), i;
	char *h;

	if (len < 19)
		return;
	h = s + len - 19;
	if (strncmp(h, "::h", 3))
		return;
	for (i = 3; i < 19; i++) {
		if (!isxdigit((unsigned char)h[i]))
			return;
	}
	*h = '\0';
}

char *demangle__name(const char *name)
{
	char *out;

	if (!demangle__is_mangled(name))
		return NULL;
	/* Auto style: libiberty tries Rust first, whose legacy form overlaps C++'s. */
	out = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
	if (out && !strncmp(name, "_ZN", 3))
		rust__drop_hash(out);
	return out;
}
