/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfpath's netlink attributes, nested in IFLA_INFO_DATA of a "vfpath" link
 * (and IFLA_INFO_SLAVE_DATA of its slaves). Shared by the module and by
 * vfpath-ctl; numbers are ABI: append only.
 */
#ifndef _UAPI_VFPATH_H
#define _UAPI_VFPATH_H

enum {
	IFLA_VFPATH_UNSPEC,
	IFLA_VFPATH_ACTIVE_PATH,		/* u8, VFPATH_ACTIVE_*, read-only */
	IFLA_VFPATH_MODE,			/* u8, enum vfpath_mode */
	IFLA_VFPATH_SETTLE_MS,			/* u32, 0..60000 */
	IFLA_VFPATH_PEER_NOTIFY,		/* u8, 0..255 */
	IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS,	/* u32, 1..10000 */
	IFLA_VFPATH_SWITCHES,			/* u64, read-only */
	IFLA_VFPATH_LAST_REASON,		/* u8, reason index, read-only */
	__IFLA_VFPATH_MAX,
};

#define IFLA_VFPATH_MAX (__IFLA_VFPATH_MAX - 1)

enum {
	IFLA_VFPATH_SLAVE_UNSPEC,
	IFLA_VFPATH_SLAVE_ROLE,			/* u8, VFPATH_ROLE_* */
	__IFLA_VFPATH_SLAVE_MAX,
};

#define IFLA_VFPATH_SLAVE_MAX (__IFLA_VFPATH_SLAVE_MAX - 1)

/* The administrator's choice of transmit path (IFLA_VFPATH_MODE). */
enum vfpath_mode {
	VFPATH_MODE_AUTO,		/* VF when usable, else synthetic */
	VFPATH_MODE_SYNTHETIC,		/* pinned to the synthetic path */
};

#define VFPATH_ACTIVE_NONE		0
#define VFPATH_ACTIVE_VF		1
#define VFPATH_ACTIVE_SYNTHETIC		2

#define VFPATH_ROLE_VF			1
#define VFPATH_ROLE_SYNTHETIC		2

#define VFPATH_SETTLE_MS_MAX		60000
#define VFPATH_PEER_NOTIFY_INTERVAL_MAX	10000

#endif /* _UAPI_VFPATH_H */
