/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints: vfpath:vfpath_switch fires on every change of the transmit
 * path, with the reason; its timestamps give the switch latency.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfpath

#if !defined(_VFPATH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VFPATH_TRACE_H

#include <linux/netdevice.h>
#include <linux/tracepoint.h>

#include "vfpath_compat.h"

TRACE_EVENT(vfpath_switch,
	    TP_PROTO(const struct net_device *master, const char *from,
		     const char *to, const char *reason),
	    TP_ARGS(master, from, to, reason),
	    TP_STRUCT__entry(__string(dev, master->name)
			     __string(from, from)
			     __string(to, to)
			     __string(reason, reason)),
	    TP_fast_assign(vfpath_assign_str(dev, master->name);
			   vfpath_assign_str(from, from);
			   vfpath_assign_str(to, to);
			   vfpath_assign_str(reason, reason);),
	    TP_printk("dev=%s from=%s to=%s reason=%s", __get_str(dev),
		      __get_str(from), __get_str(to), __get_str(reason))
);

#endif /* _VFPATH_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vfpath_trace
#include <trace/define_trace.h>
