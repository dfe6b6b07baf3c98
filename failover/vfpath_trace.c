// SPDX-License-Identifier: GPL-2.0
/* Instantiates the tracepoints declared in vfpath_trace.h. */
#define CREATE_TRACE_POINTS
#include "vfpath_trace.h"
