// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/array.h"

int array__reserve(void **data, size_t *cap, size_t need, size_t elem)
{
	size_t new_cap;
	void *tmp;

	if (need <= *cap)
		return 0;
	new_cap = *cap ? *cap : 16;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2)
			return -ENOMEM;
		new_cap *= 2;
	}
	if (!elem || new_cap > SIZE_MAX / elem)
		return -ENOMEM;
	tmp = realloc(*data, new_cap * elem);
	if (!tmp)
		return -ENOMEM;
	*data = tmp;
	*cap = new_cap;
	return 0;
}
