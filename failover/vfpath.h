/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfpath - one netdev over an SR-IOV VF and a virtio-net NIC.
 *
 * Every struct and prototype shared between the module's files lives here;
 * each file holds one concern (see README.md, "Source layout").
 */
#ifndef _VFPATH_H
#define _VFPATH_H

#include <linux/netdevice.h>
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/rtnetlink.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "vfpath_compat.h"
#include "vfpath_uapi.h"
#include "vfpath_version.h"

#define VFPATH_DRV_NAME		"vfpath"

/* The two slave roles, also the index of per-path counters. */
enum vfpath_path {
	VFPATH_PATH_VF,
	VFPATH_PATH_SYN,
	VFPATH_PATH_MAX,
};

/* Why the transmit path changed; each reason has its own counter. */
enum vfpath_reason {
	VFPATH_REASON_VF_DOWN,		/* VF closed or going down */
	VFPATH_REASON_VF_CARRIER,	/* VF lost (or regained) carrier */
	VFPATH_REASON_VF_UNBIND,	/* VF's PCI driver about to unbind */
	VFPATH_REASON_VF_UNREGISTER,	/* VF netdev went away */
	VFPATH_REASON_VF_READY,		/* VF settled: back to it */
	VFPATH_REASON_MANUAL,		/* mode changed by the administrator */
	VFPATH_REASON_SLAVE_CHANGE,	/* a slave joined or left */
	VFPATH_REASON_MAX,
};

/**
 * struct vfpath_pcpu_stats - per-CPU counters of one master
 * @tx_packets: frames handed to each path
 * @tx_bytes: bytes handed to each path
 * @rx_packets: frames received from each path
 * @rx_bytes: bytes received from each path
 * @tx_dropped: frames a slave refused
 * @rx_looped: our own frames back from the other path, dropped
 * @rx_other_path_mcast: broadcasts and multicasts that came on the path
 *	not transmitting, dropped: the host floods each one to both
 * @syncp: protects the counters above on 32-bit
 */
struct vfpath_pcpu_stats {
	u64_stats_t tx_packets[VFPATH_PATH_MAX];
	u64_stats_t tx_bytes[VFPATH_PATH_MAX];
	u64_stats_t rx_packets[VFPATH_PATH_MAX];
	u64_stats_t rx_bytes[VFPATH_PATH_MAX];
	u64_stats_t tx_dropped;
	u64_stats_t rx_looped;
	u64_stats_t rx_other_path_mcast;
	struct u64_stats_sync syncp;
};

/**
 * struct vfpath_slave_orig - what a slave was before it joined, given back
 *	when it is released
 * @addr: its MAC, if the master changed it (@addr_changed)
 * @addr_changed: it took the master's MAC on joining
 * @mtu: its MTU
 * @was_up: it was up; if not, the master opened it and closes it again
 */
struct vfpath_slave_orig {
	u8 addr[ETH_ALEN];
	bool addr_changed;
	int mtu;
	bool was_up;
};

/**
 * struct vfpath_master - private data of a vfpath master netdev
 * @dev: the master netdev itself
 * @list: entry in the list of all masters: written under RTNL, read
 *	under RTNL or RCU (the PCI bus notifier)
 * @slave: the VF and synthetic slaves; written under RTNL, read under RCU
 * @orig: each slave's state before it joined (RTNL)
 * @tx_dev: the slave transmit uses now, or NULL; written under RTNL
 * @mode: auto or pinned to synthetic (RTNL)
 * @auto_created: made by auto pairing, removed with its synthetic slave
 * @standby_for: the virtio-net STANDBY netdev this master was made for,
 *	until it registers and joins (RTNL)
 * @owner_ref: the drop-in's pointer to this master, cleared when it goes
 * @vf_settled: the VF has been usable for settle_ms (RTNL)
 * @vf_usable: the VF was usable when last looked at (RTNL)
 * @vf_usable_since: when it last became usable, in jiffies: the settle
 *	work judges by this, not by having been scheduled, since a work
 *	waiting for RTNL may belong to an earlier usable period (RTNL)
 * @vf_going: the VF's driver is unbinding; never pick it again (RTNL)
 * @vf_closing: the VF is going down (NETDEV_GOING_DOWN) until it is up (RTNL)
 * @dead: the master is being torn down; works must do nothing (RTNL)
 * @min_mtu: the lowest MTU the master may take with no slave
 * @max_mtu: the highest; a STANDBY master's are its standby's, so an MTU
 *	set before the standby joins cannot exclude it
 * @settle_ms: how long a VF must stay usable before traffic moves to it
 * @peer_notify: announcements (GARP + NA) sent per switch
 * @peer_notify_interval_ms: spacing of those announcements
 * @notify_left: announcements still to send (RTNL)
 * @settle_work: moves traffic to the VF once settled
 * @notify_work: sends the remaining announcements
 * @carrier_work: transmit found the VF without carrier before its
 *	NETDEV_CHANGE came (linkwatch delays it up to 1 s): switch now
 * @stats: per-CPU traffic counters
 * @tx_dropped_no_path: frames dropped because no slave could carry them
 * @switches: transmit path changes, in all
 * @switch_reason: transmit path changes per reason
 * @last_reason: reason of the last change (RTNL)
 * @last_switch_jiffies: when the last change happened
 * @notifications: announcements sent
 * @np: each slave's netpoll while the master has netpoll (written under
 *	RTNL, read under RCU with interrupts off; vfpath_netpoll.c)
 */
struct vfpath_master {
	struct net_device *dev;
	struct list_head list;
	struct net_device __rcu *slave[VFPATH_PATH_MAX];
	struct vfpath_slave_orig orig[VFPATH_PATH_MAX];
	struct net_device __rcu *tx_dev;
	enum vfpath_mode mode;
	bool auto_created;
	struct net_device *standby_for;
	struct net_device __rcu **owner_ref;
	bool vf_settled;
	bool vf_usable;
	unsigned long vf_usable_since;
	bool vf_going;
	bool vf_closing;
	bool dead;
	unsigned int min_mtu;
	unsigned int max_mtu;
	u32 settle_ms;
	u32 peer_notify;
	u32 peer_notify_interval_ms;
	u32 notify_left;
	struct delayed_work settle_work;
	struct delayed_work notify_work;
	struct work_struct carrier_work;
	struct vfpath_pcpu_stats __percpu *stats;
	atomic64_t tx_dropped_no_path;
	atomic64_t switches;
	atomic64_t switch_reason[VFPATH_REASON_MAX];
	enum vfpath_reason last_reason;
	unsigned long last_switch_jiffies;
	atomic64_t notifications;
#ifdef CONFIG_NET_POLL_CONTROLLER
	struct netpoll __rcu *np[VFPATH_PATH_MAX];
#endif
};

/*
 * Context: RTNL. Sets *@slave to the next slave of @vm from role *@p on,
 * and *@p past it; false when there is none.
 */
static inline bool vfpath_slave_next(struct vfpath_master *vm, int *p,
				     struct net_device **slave)
{
	for (; *p < VFPATH_PATH_MAX; (*p)++) {
		*slave = rtnl_dereference(vm->slave[*p]);
		if (*slave) {
			(*p)++;
			return true;
		}
	}
	return false;
}

/* Context: RTNL. Each present slave of @vm, VF first. */
#define vfpath_for_each_slave(vm, slave) \
	for (int __vfpath_p = 0; vfpath_slave_next(vm, &__vfpath_p, &(slave));)

/* failover/vfpath_counters.c: counters for ethtool -S and sysfs */
#define VFPATH_NR_COUNTERS	(4 * VFPATH_PATH_MAX + 5 + VFPATH_REASON_MAX + 2)
extern const char * const vfpath_counter_names[VFPATH_NR_COUNTERS];
void vfpath_counters_read(struct vfpath_master *vm, u64 *out);

/* failover/vfpath_ethtool.c, failover/vfpath_sysfs.c */
extern const struct ethtool_ops vfpath_ethtool_ops;
extern const struct attribute_group vfpath_sysfs_group;
void vfpath_sysfs_init(void);

/* failover/vfpath_main.c: module parameters */
extern bool vfpath_auto_pair;
extern bool vfpath_unloading;
extern unsigned int vfpath_settle_ms;
extern unsigned int vfpath_peer_notify;
extern unsigned int vfpath_peer_notify_interval_ms;

/* failover/vfpath_netdev.c: the master netdev */
void vfpath_master_setup(struct net_device *dev);
bool vfpath_is_master(const struct net_device *dev);
extern struct list_head vfpath_masters;

/* failover/vfpath_features.c: offloads, limits and MTU bounds from slaves */
netdev_features_t vfpath_fix_features(struct net_device *dev,
				      netdev_features_t features);
void vfpath_sync_features(struct vfpath_master *vm);

/* failover/vfpath_slave.c: joining and leaving a master */
int vfpath_slave_attach(struct vfpath_master *vm, struct net_device *slave,
			enum vfpath_path path, struct netlink_ext_ack *extack);
void vfpath_slave_detach(struct vfpath_master *vm, struct net_device *slave,
			 enum vfpath_reason reason);
int vfpath_slave_set_addr(struct net_device *slave, const u8 *addr,
			  struct netlink_ext_ack *extack);
int vfpath_slave_give_addr(struct net_device *slave, const u8 *addr,
			   struct vfpath_slave_orig *orig,
			   struct netlink_ext_ack *extack);
int vfpath_slave_set_role(struct vfpath_master *vm, struct net_device *slave,
			  enum vfpath_path path, struct netlink_ext_ack *extack);
struct vfpath_master *vfpath_master_of_slave(const struct net_device *slave);
int vfpath_slave_path(const struct vfpath_master *vm,
		      const struct net_device *slave);

/* failover/vfpath_datapath.c: which slave transmits, and switching */
void vfpath_datapath_init(struct vfpath_master *vm);
void vfpath_datapath_stop(struct vfpath_master *vm);
void vfpath_update_path(struct vfpath_master *vm, enum vfpath_reason reason);
void vfpath_vf_changed(struct vfpath_master *vm, enum vfpath_reason reason);
void vfpath_set_mode(struct vfpath_master *vm, enum vfpath_mode mode);
void vfpath_announce(struct vfpath_master *vm);
struct net_device *vfpath_xmit_no_carrier(struct vfpath_master *vm,
					  struct net_device *slave);
const char *vfpath_reason_name(enum vfpath_reason reason);
const char *vfpath_path_name(enum vfpath_path path);

/* failover/vfpath_netpoll.c: netpoll (netconsole) through the slaves */
#ifdef CONFIG_NET_POLL_CONTROLLER
int vfpath_netpoll_setup(VFPATH_NETPOLL_SETUP_PARAMS);
void vfpath_netpoll_cleanup(struct net_device *dev);
void vfpath_poll_controller(struct net_device *dev);
int vfpath_netpoll_slave_enable(struct vfpath_master *vm,
				struct net_device *slave,
				enum vfpath_path path,
				struct netlink_ext_ack *extack);
void vfpath_netpoll_slave_disable(struct vfpath_master *vm,
				  enum vfpath_path path);
netdev_tx_t vfpath_netpoll_xmit(struct vfpath_master *vm,
				enum vfpath_path path, struct sk_buff *skb);
#else
static inline int vfpath_netpoll_slave_enable(struct vfpath_master *vm,
					      struct net_device *slave,
					      enum vfpath_path path,
					      struct netlink_ext_ack *extack)
{
	return 0;
}

static inline void vfpath_netpoll_slave_disable(struct vfpath_master *vm,
						enum vfpath_path path)
{
}

/* Unreached: without netpoll, netpoll_tx_running() is false. */
static inline netdev_tx_t vfpath_netpoll_xmit(struct vfpath_master *vm,
					      enum vfpath_path path,
					      struct sk_buff *skb)
{
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}
#endif

/* failover/vfpath_pair.c: auto pairing by permanent MAC */
void vfpath_pair_try(struct net_device *dev);
struct net_device *vfpath_pair_find(struct net *net, const u8 *mac,
				    const struct net_device *except,
				    bool (*role)(const struct net_device *));
int vfpath_notifier_register(void);
void vfpath_notifier_unregister(void);

/* synthetic/vfpath_standby.c: masters for virtio-net's STANDBY feature */
struct vfpath_master *vfpath_standby_master_for(const struct net_device *standby);

/* failover/vfpath_link.c: the "vfpath" rtnl link kind */
extern struct rtnl_link_ops vfpath_link_ops;
int vfpath_link_register(void);
void vfpath_link_unregister(void);

/* vf-driver/vfpath_vf.c: which netdevs may play the VF, early switch */
bool vfpath_vf_candidate(const struct net_device *dev);
int vfpath_vf_bus_notifier_register(void);
void vfpath_vf_bus_notifier_unregister(void);

/* synthetic/vfpath_synthetic.c: which netdevs may play the synthetic NIC */
bool vfpath_synthetic_candidate(const struct net_device *dev);

#endif /* _VFPATH_H */
