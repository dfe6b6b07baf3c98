/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfpath-fdb - the host's switch-over at a migration's STOP, done in the
 * process that sees the STOP: the guest's MAC moved to the destination's
 * port of a Linux bridge (RTM_NEWNEIGH, AF_BRIDGE, master, replace,
 * dynamic: `bridge fdb replace MAC dev PORT master dynamic`) with no fork
 * or exec between the event and the move. Shared by vfpath-qmp and
 * vfpath-lv-events.
 */
#ifndef VFPATH_FDB_H
#define VFPATH_FDB_H

#include <stdbool.h>
#include <stddef.h>

struct vfpath_fdb_move {
	unsigned char mac[6];
	char mac_text[18];
	const char *port;
	int netns_fd;		/* the bridge's network namespace, or -1: ours */
	int own_netns_fd;	/* ours, to come back to */
	struct mnl_socket *nl;	/* NETLINK_ROUTE, opened in the bridge's netns */
};

/*
 * vfpath_fdb_prepare: parses MAC, opens the netlink socket in network
 * namespace NETNS (a name under /run/netns, or NULL for ours) now, so the
 * move itself costs one message. Returns 0, or -1 with a message in ERR.
 */
int vfpath_fdb_prepare(struct vfpath_fdb_move *m, const char *mac,
		       const char *port, const char *netns, char *err,
		       size_t errlen);

/* vfpath_fdb_do: the move; 0, or -errno with a message in ERR. */
int vfpath_fdb_do(struct vfpath_fdb_move *m, char *err, size_t errlen);

void vfpath_fdb_close(struct vfpath_fdb_move *m);

#endif
