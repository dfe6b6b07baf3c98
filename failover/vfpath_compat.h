/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfpath_compat.h - every kernel API difference vfpath meets, one named
 * shim each, so that the logic never carries a version #ifdef.
 *
 * Each VFPATH_HAVE_* comes from a probe of the target kernel's headers in
 * Kbuild (vfpath-probe), not from LINUX_VERSION_CODE: Debian's and the
 * distributions' stable kernels backport API changes (6.12.117 has 6.15's
 * netns_immutable), so a version number would lie. The kernel each change
 * first appeared in is noted for the reader.
 *
 * Built and tested: Debian 12's 6.1 and 6.12 (generic and cloud) and the
 * newest kernel Debian ships (README.md, "Kernels"). The shims for older
 * kernels (5.10, 5.15) follow their headers but are not built here.
 *
 * Never include this from synthetic/vfpath_dropin.c: the drop-in's
 * exported prototypes must stay exactly net_failover's.
 */
#ifndef _VFPATH_COMPAT_H
#define _VFPATH_COMPAT_H

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>

/*
 * 6.2 let every netdev be renamed while up (IFF_LIVE_RENAME_OK went); udev
 * renames slaves that vfpath opened, so older kernels need the flag.
 */
#ifdef VFPATH_HAVE_IFF_LIVE_RENAME_OK
#define VFPATH_IFF_LIVE_RENAME_OK	IFF_LIVE_RENAME_OK
#else
#define VFPATH_IFF_LIVE_RENAME_OK	0
#endif

/*
 * 6.2 moved IPv6 addrconf suppression from IFF_SLAVE to IFF_NO_ADDRCONF
 * (whose bit was IFF_LIVE_RENAME_OK's). Two slaves with one MAC must not
 * both run DAD for one link-local address.
 */
#ifdef VFPATH_HAVE_IFF_NO_ADDRCONF
#define VFPATH_IFF_NO_ADDRCONF		IFF_NO_ADDRCONF
#else
#define VFPATH_IFF_NO_ADDRCONF		0
#endif

/* What a slave carries while enslaved, besides IFF_SLAVE. */
#define VFPATH_SLAVE_PRIV_FLAGS		(IFF_FAILOVER_SLAVE | \
					 VFPATH_IFF_LIVE_RENAME_OK | \
					 VFPATH_IFF_NO_ADDRCONF)

/*
 * Context: none (setup, before register_netdevice). The master takes no
 * TX lock (6.12 made NETIF_F_LLTX the dev->lltx bit).
 */
static inline void vfpath_compat_set_lltx(struct net_device *dev)
{
#ifdef VFPATH_HAVE_DEV_LLTX
	dev->lltx = true;
#else
	dev->features |= NETIF_F_LLTX;
#endif
}

/*
 * Context: none (setup). The master stays in its netns, its slaves with
 * it: NETIF_F_NETNS_LOCAL became dev->netns_local in 6.12, then
 * dev->netns_immutable in 6.15.
 */
static inline void vfpath_compat_set_netns_local(struct net_device *dev)
{
#if defined(VFPATH_HAVE_DEV_NETNS_IMMUTABLE)
	dev->netns_immutable = true;
#elif defined(VFPATH_HAVE_DEV_NETNS_LOCAL)
	dev->netns_local = true;
#else
	dev->features |= NETIF_F_NETNS_LOCAL;
#endif
}

/* 6.11 gave ethtool's get_ts_info a kernel-only struct. */
#ifdef VFPATH_HAVE_KERNEL_ETHTOOL_TS_INFO
#define vfpath_ethtool_ts_info		kernel_ethtool_ts_info
#else
#define vfpath_ethtool_ts_info		ethtool_ts_info
#endif

/* 6.10: __assign_str() takes the field alone; its source is __string's. */
#ifdef VFPATH_HAVE_ASSIGN_STR_1
#define vfpath_assign_str(field, src)	__assign_str(field)
#else
#define vfpath_assign_str(field, src)	__assign_str(field, src)
#endif

/*
 * Context: RTNL. Sets @dev's MAC to the Ethernet address @addr; 6.16's
 * dev_set_mac_address() takes a sockaddr_storage.
 */
static inline int vfpath_compat_set_mac(struct net_device *dev, const u8 *addr,
					struct netlink_ext_ack *extack)
{
#ifdef VFPATH_HAVE_SET_MAC_SOCKADDR_STORAGE
	struct sockaddr_storage ss = { .ss_family = dev->type };

	memcpy(ss.__data, addr, ETH_ALEN);
	return dev_set_mac_address(dev, &ss, extack);
#else
	struct sockaddr sa = { .sa_family = dev->type };

	memcpy(sa.sa_data, addr, ETH_ALEN);
	return dev_set_mac_address(dev, &sa, extack);
#endif
}

/*
 * 6.15: rtnl_link_ops.newlink gets the netns and attributes in one struct.
 * VFPATH_NEWLINK_PARAMS is its parameter list, VFPATH_NEWLINK_TB and
 * VFPATH_NEWLINK_DATA the attribute tables within it.
 */
#ifdef VFPATH_HAVE_NEWLINK_PARAMS
#define VFPATH_NEWLINK_PARAMS	struct net_device *dev,			\
				struct rtnl_newlink_params *params,	\
				struct netlink_ext_ack *extack
#define VFPATH_NEWLINK_TB	(params->tb)
#define VFPATH_NEWLINK_DATA	(params->data)
#else
#define VFPATH_NEWLINK_PARAMS	struct net *src_net, struct net_device *dev, \
				struct nlattr *tb[], struct nlattr *data[], \
				struct netlink_ext_ack *extack
#define VFPATH_NEWLINK_TB	(tb)
#define VFPATH_NEWLINK_DATA	(data)
#endif

/* 6.13: ndo_netpoll_setup() lost its netpoll_info (vfpath never used it). */
#ifdef VFPATH_HAVE_NETPOLL_SETUP_DEV_ONLY
#define VFPATH_NETPOLL_SETUP_PARAMS	struct net_device *dev
#else
#define VFPATH_NETPOLL_SETUP_PARAMS	struct net_device *dev, \
					struct netpoll_info *npinfo
#endif

/* 5.15: eth_hw_addr_set(); dev_addr became const. */
#ifndef VFPATH_HAVE_ETH_HW_ADDR_SET
static inline void eth_hw_addr_set(struct net_device *dev, const u8 *addr)
{
	memcpy(dev->dev_addr, addr, ETH_ALEN);
}
#endif

/* 5.13: ethtool_sprintf(). */
#ifndef VFPATH_HAVE_ETHTOOL_SPRINTF
static inline __printf(2, 3) void ethtool_sprintf(u8 **data, const char *fmt,
						  ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(*data, ETH_GSTRING_LEN, fmt, args);
	va_end(args);
	*data += ETH_GSTRING_LEN;
}
#endif

/* 6.0: TSO limits of their own, apart from the GSO ones. */
#ifndef VFPATH_HAVE_TSO_MAX
#define TSO_MAX_SIZE	GSO_MAX_SIZE
#define TSO_MAX_SEGS	GSO_MAX_SEGS
static inline void netif_set_tso_max_size(struct net_device *dev,
					  unsigned int size)
{
	netif_set_gso_max_size(dev, size);
}

static inline void netif_set_tso_max_segs(struct net_device *dev,
					  unsigned int segs)
{
	dev->gso_max_segs = segs;
}

#define vfpath_compat_tso_max_size(dev)	((dev)->gso_max_size)
#define vfpath_compat_tso_max_segs(dev)	((dev)->gso_max_segs)
#else
#define vfpath_compat_tso_max_size(dev)	((dev)->tso_max_size)
#define vfpath_compat_tso_max_segs(dev)	((dev)->tso_max_segs)
#endif

/*
 * Left alone on purpose: u64_stats_fetch_begin()/_retry() exist on every
 * kernel here (only their _irq forms went, in 6.3); dev_hold()/dev_put()
 * too (netdev_hold() and its tracker came in 6.0, with no gain for a
 * reference that lives exactly as long as the enslavement).
 */

/*
 * 5.15 split ndo_eth_ioctl off ndo_do_ioctl; before, SIOCxHWTSTAMP came
 * through ndo_do_ioctl.
 */
#ifdef VFPATH_HAVE_NDO_ETH_IOCTL
#define VFPATH_NDO_ETH_IOCTL		ndo_eth_ioctl
#else
#define VFPATH_NDO_ETH_IOCTL		ndo_do_ioctl
#endif

#endif /* _VFPATH_COMPAT_H */
