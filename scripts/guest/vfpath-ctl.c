// SPDX-License-Identifier: GPL-2.0
/*
 * vfpath-ctl - read and set a vfpath master's IFLA_INFO_DATA over rtnetlink
 * (iproute2 does not know the "vfpath" kind's attributes).
 *
 *   vfpath-ctl show DEV                  master: settings and state as JSON;
 *                                        slave: its role
 *   vfpath-ctl set DEV SETTING VALUE...  change settings of a master
 *   vfpath-ctl add NAME [SETTING VALUE]  create a master with settings
 *   vfpath-ctl monitor DEV [COUNT]       one JSON line per RTM_NEWLINK of
 *                                        master DEV: its IFLA_EVENT and path
 *   vfpath-ctl mtu DEV MTU               IFLA_MTU by name, the name looked up
 *                                        under RTNL (a device that appears
 *                                        while the request waits for it)
 *   vfpath-ctl hwtstamp DEV [TX RX]      SIOCGHWTSTAMP (or SIOCSHWTSTAMP of
 *                                        tx_type TX, rx_filter RX, with
 *                                        HWTSTAMP_FLAG_BONDED_PHC_INDEX)
 *
 * Ranges are the kernel's to check: its extack message is printed as is.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/net_tstamp.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../failover/vfpath_uapi.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static const char *const reasons[] = {
	"vf_down", "vf_carrier", "vf_unbind", "vf_unregister", "vf_ready",
	"manual", "slave_change",
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: vfpath-ctl show DEV\n"
"       vfpath-ctl set DEV SETTING VALUE [SETTING VALUE]...\n"
"       vfpath-ctl add NAME [SETTING VALUE]...\n"
"       vfpath-ctl role SLAVE vf|synthetic\n"
"       vfpath-ctl monitor DEV [COUNT]   (COUNT messages, or until killed)\n"
"       vfpath-ctl mtu DEV MTU\n"
"       vfpath-ctl hwtstamp DEV [TX_TYPE RX_FILTER]\n"
"SETTING: mode (auto|synthetic), settle_ms, peer_notify,\n"
"         peer_notify_interval_ms; raw_u32:TYPE puts attribute TYPE as a\n"
"         u32 whatever its type (to check the kernel's validation)\n");
}

struct reply {
	struct nlattr *data[IFLA_VFPATH_MAX + 1];
	uint32_t event;			/* IFLA_EVENT, 0 (NONE) if absent */
	int ifindex;
	struct nlattr *slave[IFLA_VFPATH_SLAVE_MAX + 1];
	char kind[32], slave_kind[32];
	const char *ifname;
};

struct walk {
	const struct nlattr **tb;
	int max;
};

static int bounded_cb(const struct nlattr *a, void *arg)
{
	struct walk *w = arg;

	if (mnl_attr_get_type(a) <= w->max)
		w->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void parse_nested(const struct nlattr *nest, const struct nlattr **tb,
			 int max)
{
	struct walk w = { tb, max };

	mnl_attr_parse_nested(nest, bounded_cb, &w);
}

/*
 * The attributes of @nlh after @off, up to @max: a newer kernel sends
 * types this program's headers do not know, and they are skipped.
 */
static void parse_msg(const struct nlmsghdr *nlh, size_t off,
		      const struct nlattr **tb, int max)
{
	struct walk w = { tb, max };

	mnl_attr_parse(nlh, (unsigned int)off, bounded_cb, &w);
}

static int link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {}, *li[IFLA_INFO_MAX + 1] = {};
	struct reply *r = arg;

	parse_msg(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX);
	r->ifindex = ((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index;
	r->event = tb[IFLA_EVENT] ? mnl_attr_get_u32(tb[IFLA_EVENT]) : 0;
	if (tb[IFLA_IFNAME])
		r->ifname = strdup(mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (!tb[IFLA_LINKINFO])
		return MNL_CB_OK;
	parse_nested(tb[IFLA_LINKINFO], li, IFLA_INFO_MAX);
	if (li[IFLA_INFO_KIND])
		snprintf(r->kind, sizeof(r->kind), "%s", mnl_attr_get_str(li[IFLA_INFO_KIND]));
	if (li[IFLA_INFO_SLAVE_KIND])
		snprintf(r->slave_kind, sizeof(r->slave_kind), "%s",
			 mnl_attr_get_str(li[IFLA_INFO_SLAVE_KIND]));
	if (li[IFLA_INFO_DATA])
		parse_nested(li[IFLA_INFO_DATA], (const struct nlattr **)r->data,
			     IFLA_VFPATH_MAX);
	if (li[IFLA_INFO_SLAVE_DATA])
		parse_nested(li[IFLA_INFO_SLAVE_DATA], (const struct nlattr **)r->slave,
			     IFLA_VFPATH_SLAVE_MAX);
	return MNL_CB_OK;
}

/* Sends @nlh, runs @cb on replies; prints the kernel's extack on error. */
static int talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int seq, portid;
	int one = 1, ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("vfpath-ctl: netlink");
		return 1;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	portid = mnl_socket_get_portid(nl);
	seq = nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("vfpath-ctl: send");
		mnl_socket_close(nl);
		return 1;
	}
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, ret, seq, portid, cb, arg);
	} while (ret > 0);
	if (ret < 0) {
		const struct nlmsghdr *eh = (const struct nlmsghdr *)buf;
		const struct nlmsgerr *err = mnl_nlmsg_get_payload(eh);
		const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
		size_t off = sizeof(*err);

		if (eh->nlmsg_type == NLMSG_ERROR) {
			if (!(eh->nlmsg_flags & NLM_F_CAPPED))
				off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
			if (eh->nlmsg_flags & NLM_F_ACK_TLVS)
				parse_msg(eh, off, tb, NLMSGERR_ATTR_MAX);
		}
		fprintf(stderr, "vfpath-ctl: %s%s%s\n", strerror(errno),
			tb[NLMSGERR_ATTR_MSG] ? ": " : "",
			tb[NLMSGERR_ATTR_MSG] ? mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]) : "");
	}
	mnl_socket_close(nl);
	return ret < 0 ? 1 : 0;
}

static int show(const char *dev)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct reply r = { 0 };
	struct ifinfomsg *ifm;
	uint8_t a, reason;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;	/* the ACK ends the wait */
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, dev);
	if (talk(nlh, link_cb, &r))
		return 1;
	if (!strcmp(r.slave_kind, "vfpath") && r.slave[IFLA_VFPATH_SLAVE_ROLE]) {
		a = mnl_attr_get_u8(r.slave[IFLA_VFPATH_SLAVE_ROLE]);
		printf("{\"ifname\": \"%s\", \"role\": \"%s\"}\n", r.ifname,
		       a == VFPATH_ROLE_VF ? "vf" : "synthetic");
		return 0;
	}
	if (strcmp(r.kind, "vfpath") || !r.data[IFLA_VFPATH_MODE]) {
		fprintf(stderr, "vfpath-ctl: %s is neither a vfpath master nor its slave\n", dev);
		return 1;
	}
	a = mnl_attr_get_u8(r.data[IFLA_VFPATH_ACTIVE_PATH]);
	reason = mnl_attr_get_u8(r.data[IFLA_VFPATH_LAST_REASON]);
	printf("{\"ifname\": \"%s\", \"active_path\": \"%s\", \"mode\": \"%s\", "
	       "\"settle_ms\": %u, \"peer_notify\": %u, "
	       "\"peer_notify_interval_ms\": %u, \"switches\": %llu, "
	       "\"last_reason\": \"%s\"}\n", r.ifname,
	       a == VFPATH_ACTIVE_VF ? "vf" : a == VFPATH_ACTIVE_SYNTHETIC ?
	       "synthetic" : "none",
	       mnl_attr_get_u8(r.data[IFLA_VFPATH_MODE]) == VFPATH_MODE_SYNTHETIC ?
	       "synthetic" : "auto",
	       mnl_attr_get_u32(r.data[IFLA_VFPATH_SETTLE_MS]),
	       mnl_attr_get_u8(r.data[IFLA_VFPATH_PEER_NOTIFY]),
	       mnl_attr_get_u32(r.data[IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS]),
	       (unsigned long long)mnl_attr_get_u64(r.data[IFLA_VFPATH_SWITCHES]),
	       reason < sizeof(reasons) / sizeof(reasons[0]) ? reasons[reason] : "?");
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' || *v > max ? -1 : 0;
}

/*
 * IFLA_EVENT's names. The kernel reports NETDEV_CHANGEINFODATA, which
 * vfpath raises on every switch, as IFLA_EVENT_BONDING_FAILOVER.
 */
static const char *event_name(uint32_t e)
{
	static const char *const names[] = {
		"none", "reboot", "features", "bonding_failover", "notify_peers",
		"igmp_resend", "bonding_options",
	};

	return e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

static const char *active_name(const struct reply *r)
{
	uint8_t a;

	if (!r->data[IFLA_VFPATH_ACTIVE_PATH])
		return "?";
	a = mnl_attr_get_u8(r->data[IFLA_VFPATH_ACTIVE_PATH]);
	return a == VFPATH_ACTIVE_VF ? "vf" : a == VFPATH_ACTIVE_SYNTHETIC ?
	       "synthetic" : "none";
}

struct monitor {
	int ifindex;
	long left;			/* messages still to print; <0: forever */
};

static int monitor_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct monitor *m = arg;
	struct reply r = { 0 };

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	link_cb(nlh, &r);
	if (r.ifindex != m->ifindex)
		return MNL_CB_OK;
	printf("{\"ifname\": \"%s\", \"event\": \"%s\", \"active_path\": \"%s\", "
	       "\"switches\": %llu, \"settle_ms\": %u}\n", r.ifname ? r.ifname : "?",
	       event_name(r.event), active_name(&r), r.data[IFLA_VFPATH_SWITCHES] ?
	       (unsigned long long)mnl_attr_get_u64(r.data[IFLA_VFPATH_SWITCHES]) : 0ULL,
	       r.data[IFLA_VFPATH_SETTLE_MS] ? mnl_attr_get_u32(r.data[IFLA_VFPATH_SETTLE_MS]) : 0);
	fflush(stdout);
	free((void *)r.ifname);
	if (m->left > 0 && --m->left == 0)
		return MNL_CB_STOP;
	return MNL_CB_OK;
}

/*
 * Prints the RTM_NEWLINKs of master @dev as they come (COUNT of them, or
 * until killed): what `ip monitor link` shows, with the vfpath attributes
 * and IFLA_EVENT it cannot decode. Prints "monitoring" on stderr once
 * subscribed, so a caller knows when to start what it wants to watch.
 */
static int monitor(const char *dev, const char *count)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct monitor m = { .left = -1 };
	struct mnl_socket *nl;
	unsigned long v;
	int ret;

	m.ifindex = (int)if_nametoindex(dev);
	if (!m.ifindex) {
		fprintf(stderr, "vfpath-ctl: no device %s\n", dev);
		return 1;
	}
	if (count) {
		if (parse_uint(count, 1000000, &v) || !v) {
			fprintf(stderr, "vfpath-ctl: bad count '%s'\n", count);
			return 2;
		}
		m.left = (long)v;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		perror("vfpath-ctl: netlink");
		return 1;
	}
	fprintf(stderr, "vfpath-ctl: monitoring %s\n", dev);
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			/* A lost message is a lost count: say so, do not go on. */
			perror("vfpath-ctl: monitor");
			break;
		}
		ret = mnl_cb_run(buf, ret, 0, 0, monitor_cb, &m);
	} while (ret > 0);
	mnl_socket_close(nl);
	return ret < 0 ? 1 : 0;
}

/* Appends SETTING VALUE pairs to @nlh; returns 0 or prints why not. */
static int put_settings(struct nlmsghdr *nlh, int argc, char **argv)
{
	unsigned long v;
	int i;

	if (argc % 2) {
		fprintf(stderr, "vfpath-ctl: setting '%s' has no value\n", argv[argc - 1]);
		return -1;
	}
	for (i = 0; i < argc; i += 2) {
		const char *k = argv[i], *s = argv[i + 1];

		if (!strcmp(k, "mode")) {
			if (strcmp(s, "auto") && strcmp(s, "synthetic"))
				goto bad;
			mnl_attr_put_u8(nlh, IFLA_VFPATH_MODE, strcmp(s, "auto") ?
					VFPATH_MODE_SYNTHETIC : VFPATH_MODE_AUTO);
		} else if (!strcmp(k, "settle_ms")) {
			if (parse_uint(s, UINT32_MAX, &v))
				goto bad;
			mnl_attr_put_u32(nlh, IFLA_VFPATH_SETTLE_MS, (uint32_t)v);
		} else if (!strcmp(k, "peer_notify")) {
			if (parse_uint(s, 255, &v))
				goto bad;
			mnl_attr_put_u8(nlh, IFLA_VFPATH_PEER_NOTIFY, (uint8_t)v);
		} else if (!strcmp(k, "peer_notify_interval_ms")) {
			if (parse_uint(s, UINT32_MAX, &v))
				goto bad;
			mnl_attr_put_u32(nlh, IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS, (uint32_t)v);
		} else if (!strncmp(k, "raw_u32:", 8)) {
			unsigned long type;

			if (parse_uint(k + 8, IFLA_VFPATH_MAX, &type) ||
			    parse_uint(s, UINT32_MAX, &v))
				goto bad;
			mnl_attr_put_u32(nlh, (uint16_t)type, (uint32_t)v);
		} else {
			fprintf(stderr, "vfpath-ctl: unknown setting '%s'\n", k);
			usage(stderr);
			return -1;
		}
	}
	return 0;
bad:
	fprintf(stderr, "vfpath-ctl: bad value '%s' for %s\n", argv[i + 1], argv[i]);
	return -1;
}

/* Starts an RTM_NEWLINK request for @dev in @buf. */
static struct nlmsghdr *newlink_start(char *buf, const char *dev, int flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, dev);
	return nlh;
}

static int newlink(const char *dev, int create, int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *li, *data;

	nlh = newlink_start(buf, dev, create ? NLM_F_CREATE | NLM_F_EXCL : 0);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vfpath");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (put_settings(nlh, argc, argv))
		return 2;
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return talk(nlh, NULL, NULL);
}

/* Gives an enslaved @dev the role @role (IFLA_INFO_SLAVE_DATA). */
static int set_role(const char *dev, const char *role)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *li, *data;
	uint8_t r;

	if (!strcmp(role, "vf")) {
		r = VFPATH_ROLE_VF;
	} else if (!strcmp(role, "synthetic")) {
		r = VFPATH_ROLE_SYNTHETIC;
	} else {
		fprintf(stderr, "vfpath-ctl: bad role '%s' (vf or synthetic)\n", role);
		return 2;
	}
	nlh = newlink_start(buf, dev, 0);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "vfpath");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_VFPATH_SLAVE_ROLE, r);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return talk(nlh, NULL, NULL);
}

/* Sets @dev's MTU by an RTM_NEWLINK that names it (ifindex 0). */
static int set_mtu(const char *dev, const char *mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	unsigned long v;

	if (parse_uint(mtu, UINT32_MAX, &v)) {
		fprintf(stderr, "vfpath-ctl: bad MTU '%s'\n", mtu);
		return 2;
	}
	nlh = newlink_start(buf, dev, 0);
	mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)v);
	return talk(nlh, NULL, NULL);
}

/*
 * SIOCGHWTSTAMP on @dev, or SIOCSHWTSTAMP of @tx/@rx: prints the config
 * the driver reports as JSON, or the error.
 */
static int hwtstamp(const char *dev, const char *tx, const char *rx)
{
	struct hwtstamp_config cfg = { 0 };
	unsigned long t, r;
	struct ifreq ifr;
	int fd, ret;

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(dev) >= IFNAMSIZ) {
		fprintf(stderr, "vfpath-ctl: bad device name '%s'\n", dev);
		return 2;
	}
	strcpy(ifr.ifr_name, dev);
	if (tx) {
		if (parse_uint(tx, INT32_MAX, &t) || parse_uint(rx, INT32_MAX, &r)) {
			fprintf(stderr, "vfpath-ctl: bad tx_type '%s' or rx_filter '%s'\n", tx, rx);
			return 2;
		}
		cfg.flags = HWTSTAMP_FLAG_BONDED_PHC_INDEX;
		cfg.tx_type = (int)t;
		cfg.rx_filter = (int)r;
	}
	ifr.ifr_data = (void *)&cfg;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("vfpath-ctl: socket");
		return 1;
	}
	ret = ioctl(fd, tx ? SIOCSHWTSTAMP : SIOCGHWTSTAMP, &ifr);
	close(fd);
	if (ret) {
		fprintf(stderr, "vfpath-ctl: %s %s: %s\n",
			tx ? "SIOCSHWTSTAMP" : "SIOCGHWTSTAMP", dev, strerror(errno));
		return 1;
	}
	printf("{\"ifname\": \"%s\", \"flags\": %d, \"tx_type\": %d, \"rx_filter\": %d}\n",
	       dev, cfg.flags, cfg.tx_type, cfg.rx_filter);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "show"))
		return show(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "set"))
		return newlink(argv[2], 0, argc - 3, argv + 3);
	if (argc >= 3 && !strcmp(argv[1], "add"))
		return newlink(argv[2], 1, argc - 3, argv + 3);
	if (argc == 4 && !strcmp(argv[1], "role"))
		return set_role(argv[2], argv[3]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "monitor"))
		return monitor(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 4 && !strcmp(argv[1], "mtu"))
		return set_mtu(argv[2], argv[3]);
	if ((argc == 3 || argc == 5) && !strcmp(argv[1], "hwtstamp"))
		return hwtstamp(argv[2], argc == 5 ? argv[3] : NULL,
				argc == 5 ? argv[4] : NULL);
	usage(stderr);
	return 2;
}
