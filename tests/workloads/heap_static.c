// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* heap_work linked statically (Makefile: -static): malloc lives in the executable. */
#include "heap_work.c"
