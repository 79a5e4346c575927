/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* C++ and Rust (legacy and v0) symbol demangling through libiberty. */
#ifndef BPFPROF_SYMBOLIZER_DEMANGLE_H
#define BPFPROF_SYMBOLIZER_DEMANGLE_H

#include <stdbool.h>

/* True when name looks mangled (C++/Rust legacy "_Z", Rust v0 "_R"). */
bool demangle__is_mangled(const char *name);
/*
 * The demangled name, malloc'ed (the caller frees it), or NULL when name is
 * not mangled or cannot be demangled. Rust legacy hashes are dropped.
 */
char *demangle__name(const char *name);

#endif
