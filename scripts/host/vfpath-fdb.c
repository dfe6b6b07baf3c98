// SPDX-License-Identifier: GPL-2.0
/*
 * vfpath-fdb - the guest's MAC moved to another bridge port, at once (see
 * vfpath-fdb.h). The port's index is looked up at the move, not before:
 * under libvirt the destination's tap appears only once the migration
 * has started.
 */
#define _GNU_SOURCE
#include "vfpath-fdb.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int enter(int fd, char *err, size_t errlen, const char *what)
{
	if (fd >= 0 && setns(fd, CLONE_NEWNET)) {
		snprintf(err, errlen, "setns to %s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

int vfpath_fdb_prepare(struct vfpath_fdb_move *m, const char *mac,
		       const char *port, const char *netns, char *err,
		       size_t errlen)
{
	char path[256];
	int n = 0;

	memset(m, 0, sizeof(*m));
	m->netns_fd = -1;
	m->own_netns_fd = -1;
	if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%n", &m->mac[0], &m->mac[1],
		   &m->mac[2], &m->mac[3], &m->mac[4], &m->mac[5], &n) != 6 ||
	    mac[n] || strlen(mac) != 17) {
		snprintf(err, errlen, "not a MAC address: '%s'", mac);
		return -1;
	}
	snprintf(m->mac_text, sizeof(m->mac_text), "%s", mac);
	if (!*port || strlen(port) >= IFNAMSIZ) {
		snprintf(err, errlen, "not an interface name: '%s'", port);
		return -1;
	}
	m->port = port;
	if (netns) {
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		m->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
		m->own_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (m->netns_fd < 0 || m->own_netns_fd < 0) {
			snprintf(err, errlen, "network namespace %s: %s", netns,
				 strerror(errno));
			goto err_close_fds;
		}
	}
	if (enter(m->netns_fd, err, errlen, netns))
		goto err_close_fds;
	m->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (m->nl && mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID)) {
		mnl_socket_close(m->nl);
		m->nl = NULL;
	}
	if (!m->nl)
		snprintf(err, errlen, "netlink: %s", strerror(errno));
	if (enter(m->own_netns_fd, err, errlen, "our own namespace") || !m->nl)
		goto err_close_socket;
	return 0;

err_close_socket:
	if (m->nl)
		mnl_socket_close(m->nl);
	m->nl = NULL;
err_close_fds:
	if (m->netns_fd >= 0)
		close(m->netns_fd);
	if (m->own_netns_fd >= 0)
		close(m->own_netns_fd);
	m->netns_fd = m->own_netns_fd = -1;
	return -1;
}

int vfpath_fdb_do(struct vfpath_fdb_move *m, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	unsigned int seq = (unsigned int)time(NULL), ifindex;
	int ret;

	if (enter(m->netns_fd, err, errlen, "the bridge's namespace"))
		return -errno;
	ifindex = if_nametoindex(m->port);
	ret = -errno;
	if (enter(m->own_netns_fd, err, errlen, "our own namespace"))
		return -errno;
	if (!ifindex) {
		snprintf(err, errlen, "no interface %s: %s", m->port, strerror(-ret));
		return ret;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = (int)ifindex;
	ndm->ndm_state = NUD_REACHABLE;		/* dynamic: ages, relearns */
	ndm->ndm_flags = NTF_MASTER;		/* the bridge's table */
	mnl_attr_put(nlh, NDA_LLADDR, sizeof(m->mac), m->mac);

	if (mnl_socket_sendto(m->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "netlink send: %s", strerror(errno));
		return ret;
	}
	ret = (int)mnl_socket_recvfrom(m->nl, buf, sizeof(buf));
	if (ret > 0)
		ret = mnl_cb_run(buf, (size_t)ret, seq, mnl_socket_get_portid(m->nl),
				 NULL, NULL);
	if (ret < 0) {
		ret = -errno;
		snprintf(err, errlen, "moving %s to %s: %s", m->mac_text, m->port,
			 strerror(errno));
		return ret;
	}
	return 0;
}

void vfpath_fdb_close(struct vfpath_fdb_move *m)
{
	if (m->nl)
		mnl_socket_close(m->nl);
	if (m->netns_fd >= 0)
		close(m->netns_fd);
	if (m->own_netns_fd >= 0)
		close(m->own_netns_fd);
	m->nl = NULL;
	m->netns_fd = m->own_netns_fd = -1;
}
