// SPDX-License-Identifier: GPL-2.0
/*
 * The vfpath master netdev. It owns no queue: transmit is lockless and hands
 * each frame to the slave the datapath selected (tx_dev, an RCU pointer);
 * with no usable slave, the frame is dropped and counted. Receive happens in
 * the slaves' rx_handler (vfpath_slave.c). Control operations (open, MTU,
 * address lists, VLAN filters) run under RTNL and apply to both slaves.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/net_tstamp.h>
#include <linux/netdevice.h>
#include <linux/netpoll.h>
#include <linux/rtnetlink.h>
#include <linux/uaccess.h>

#include "vfpath.h"

/* All masters: changed under RTNL, read under RTNL or RCU. */
LIST_HEAD(vfpath_masters);

/* What a master may offer; vfpath_fix_features() keeps what a slave has. */
#define VFPATH_FEATURES	(NETIF_F_HW_CSUM | NETIF_F_SG | NETIF_F_FRAGLIST | \
			 NETIF_F_ALL_TSO | NETIF_F_HIGHDMA | NETIF_F_LRO | \
			 NETIF_F_RXCSUM | NETIF_F_GSO_SOFTWARE)

/* Context: RCU-bh (ndo_start_xmit), lockless. */
static netdev_tx_t vfpath_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct vfpath_pcpu_stats *st;
	struct net_device *slave;
	unsigned int len = skb->len;
	int path, rc;

	slave = rcu_dereference_bh(vm->tx_dev);
	if (unlikely(slave && !netif_carrier_ok(slave)))
		slave = vfpath_xmit_no_carrier(vm, slave);
	if (unlikely(!slave)) {
		atomic64_inc(&vm->tx_dropped_no_path);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	path = slave == rcu_access_pointer(vm->slave[VFPATH_PATH_VF]) ?
	       VFPATH_PATH_VF : VFPATH_PATH_SYN;

	/* The slave picks its own queue in dev_queue_xmit(). */
	skb->dev = slave;
	if (unlikely(netpoll_tx_running(dev)))	/* irqs off: vfpath_netpoll.c */
		return vfpath_netpoll_xmit(vm, path, skb);
	rc = dev_queue_xmit(skb);

	st = this_cpu_ptr(vm->stats);
	u64_stats_update_begin(&st->syncp);
	if (likely(rc == NET_XMIT_SUCCESS || rc == NET_XMIT_CN)) {
		u64_stats_inc(&st->tx_packets[path]);
		u64_stats_add(&st->tx_bytes[path], len);
	} else {
		u64_stats_inc(&st->tx_dropped);
	}
	u64_stats_update_end(&st->syncp);
	return NETDEV_TX_OK;
}

/*
 * Context: any (ndo_get_stats64). The master counts what crossed it, per
 * path, so its totals never go backwards when a slave leaves or resets.
 */
static void vfpath_get_stats64(struct net_device *dev,
			       struct rtnl_link_stats64 *stats)
{
	struct vfpath_master *vm = netdev_priv(dev);
	int cpu, p;

	for_each_possible_cpu(cpu) {
		const struct vfpath_pcpu_stats *st = per_cpu_ptr(vm->stats, cpu);
		u64 txp, txb, rxp, rxb, txd;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			txp = 0;
			txb = 0;
			rxp = 0;
			rxb = 0;
			for (p = 0; p < VFPATH_PATH_MAX; p++) {
				txp += u64_stats_read(&st->tx_packets[p]);
				txb += u64_stats_read(&st->tx_bytes[p]);
				rxp += u64_stats_read(&st->rx_packets[p]);
				rxb += u64_stats_read(&st->rx_bytes[p]);
			}
			txd = u64_stats_read(&st->tx_dropped);
		} while (u64_stats_fetch_retry(&st->syncp, start));
		stats->tx_packets += txp;
		stats->tx_bytes += txb;
		stats->rx_packets += rxp;
		stats->rx_bytes += rxb;
		stats->tx_dropped += txd;
	}
	stats->tx_dropped += atomic64_read(&vm->tx_dropped_no_path);
}

/* Context: RTNL (ndo_open). Opens the slaves so either path can carry. */
static int vfpath_open(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *slave;
	int err;

	ASSERT_RTNL();
	vfpath_for_each_slave(vm, slave) {
		err = dev_open(slave, NULL);
		if (err)
			netdev_warn(dev, "slave %s did not open: %d\n",
				    slave->name, err);
	}
	vfpath_update_path(vm, VFPATH_REASON_SLAVE_CHANGE);
	return 0;
}

/* Context: RTNL (ndo_stop). Slaves stay open: they are still NICs. */
static int vfpath_stop(struct net_device *dev)
{
	ASSERT_RTNL();
	return 0;
}

/*
 * Context: RTNL. Applies @apply to each slave in turn; when one fails,
 * @undo reverts the slaves already changed, so both or neither change.
 */
static int vfpath_each_slave(struct vfpath_master *vm,
			     int (*apply)(struct net_device *slave, void *arg),
			     void (*undo)(struct net_device *slave, void *arg),
			     void *arg)
{
	struct net_device *slave, *done;
	int err;

	ASSERT_RTNL();
	vfpath_for_each_slave(vm, slave) {
		err = apply(slave, arg);
		if (err)
			goto err_undo_applied;
	}
	return 0;

err_undo_applied:
	netdev_err(vm->dev, "slave %s refused the change: %d\n",
		   slave->name, err);
	vfpath_for_each_slave(vm, done) {
		if (done == slave)
			break;
		undo(done, arg);
	}
	return err;
}

struct vfpath_mtu_change {
	int old_mtu;
	int new_mtu;
};

static int vfpath_slave_mtu_set(struct net_device *slave, void *arg)
{
	return dev_set_mtu(slave, ((struct vfpath_mtu_change *)arg)->new_mtu);
}

static void vfpath_slave_mtu_undo(struct net_device *slave, void *arg)
{
	dev_set_mtu(slave, ((struct vfpath_mtu_change *)arg)->old_mtu);
}

/*
 * Context: RTNL (ndo_change_mtu). Both slaves or neither; the core has
 * checked @new_mtu against the bounds vfpath_sync_features() took from
 * both slaves.
 */
static int vfpath_change_mtu(struct net_device *dev, int new_mtu)
{
	struct vfpath_mtu_change mc = { .old_mtu = dev->mtu, .new_mtu = new_mtu };
	int err;

	ASSERT_RTNL();
	err = vfpath_each_slave(netdev_priv(dev), vfpath_slave_mtu_set,
				vfpath_slave_mtu_undo, &mc);
	if (!err)
		dev->mtu = new_mtu;
	return err;
}

/* Context: under netif_addr_lock_bh of the master (ndo_set_rx_mode). */
static void vfpath_set_rx_mode(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *slave;
	int p;

	rcu_read_lock();
	for (p = 0; p < VFPATH_PATH_MAX; p++) {
		slave = rcu_dereference(vm->slave[p]);
		if (!slave)
			continue;
		dev_uc_sync_multiple(slave, dev);
		dev_mc_sync_multiple(slave, dev);
	}
	rcu_read_unlock();
}

/* Context: RTNL (ndo_change_rx_flags): promisc/allmulti go to both. */
static void vfpath_change_rx_flags(struct net_device *dev, int change)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *slave;

	ASSERT_RTNL();
	vfpath_for_each_slave(vm, slave) {
		if (change & IFF_PROMISC)
			dev_set_promiscuity(slave,
					    dev->flags & IFF_PROMISC ? 1 : -1);
		if (change & IFF_ALLMULTI)
			dev_set_allmulti(slave,
					 dev->flags & IFF_ALLMULTI ? 1 : -1);
	}
}

struct vfpath_addr_change {
	struct vfpath_master *vm;
	u8 old[ETH_ALEN];
	const u8 *new;
};

/* Context: RTNL. The slave takes the master's new MAC; its own is kept. */
static int vfpath_slave_addr_set(struct net_device *slave, void *arg)
{
	struct vfpath_addr_change *ac = arg;

	return vfpath_slave_give_addr(slave, ac->new,
				      &ac->vm->orig[vfpath_slave_path(ac->vm, slave)],
				      NULL);
}

/* Context: RTNL. */
static void vfpath_slave_addr_undo(struct net_device *slave, void *arg)
{
	vfpath_slave_set_addr(slave, ((struct vfpath_addr_change *)arg)->old, NULL);
}

/*
 * Context: RTNL (ndo_set_mac_address). Both slaves take the new MAC or
 * neither does, as for the MTU: a master whose MAC a slave's filter does
 * not pass receives nothing on that path. A STANDBY master refuses, as
 * net_failover does (virtio-net refuses it for a STANDBY device too).
 */
static int vfpath_set_mac_address(struct net_device *dev, void *p)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct sockaddr *sa = p;
	struct vfpath_addr_change ac = { .vm = vm, .new = sa->sa_data };
	int err;

	ASSERT_RTNL();
	if (vm->owner_ref)
		return -EOPNOTSUPP;
	err = eth_prepare_mac_addr_change(dev, p);
	if (err)
		return err;
	ether_addr_copy(ac.old, dev->dev_addr);
	err = vfpath_each_slave(vm, vfpath_slave_addr_set,
				vfpath_slave_addr_undo, &ac);
	if (err)
		return err;
	eth_commit_mac_addr_change(dev, p);
	return 0;
}

/*
 * Context: RTNL (ndo_eth_ioctl, SIOC[SG]HWTSTAMP). Hardware timestamping
 * is the transmitting slave's, as ethtool -T says. Its clock changes when
 * the path does, so, as for a bond, setting it needs
 * HWTSTAMP_FLAG_BONDED_PHC_INDEX (the caller knows to look at
 * ethtool -T again), and reading it reports that flag.
 */
static int vfpath_eth_ioctl(struct net_device *dev, struct ifreq *ifr, int cmd)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct hwtstamp_config cfg;
	struct net_device *tx;
	struct ifreq sifr;
	int err;

	ASSERT_RTNL();
	if (cmd != SIOCSHWTSTAMP && cmd != SIOCGHWTSTAMP)
		return -EOPNOTSUPP;
	if (cmd == SIOCSHWTSTAMP) {
		if (copy_from_user(&cfg, ifr->ifr_data, sizeof(cfg)))
			return -EFAULT;
		if (!(cfg.flags & HWTSTAMP_FLAG_BONDED_PHC_INDEX))
			return -EOPNOTSUPP;
	}
	tx = rtnl_dereference(vm->tx_dev);
	if (!tx || !tx->netdev_ops->VFPATH_NDO_ETH_IOCTL || !netif_device_present(tx))
		return -EOPNOTSUPP;
	strscpy_pad(sifr.ifr_name, tx->name, IFNAMSIZ);
	sifr.ifr_ifru = ifr->ifr_ifru;
	err = tx->netdev_ops->VFPATH_NDO_ETH_IOCTL(tx, &sifr, cmd);
	if (err)
		return err;
	if (copy_from_user(&cfg, ifr->ifr_data, sizeof(cfg)))
		return -EFAULT;
	cfg.flags |= HWTSTAMP_FLAG_BONDED_PHC_INDEX;
	return copy_to_user(ifr->ifr_data, &cfg, sizeof(cfg)) ? -EFAULT : 0;
}

struct vfpath_vid {
	__be16 proto;
	u16 vid;
};

static int vfpath_slave_vid_add(struct net_device *slave, void *arg)
{
	struct vfpath_vid *v = arg;

	return vlan_vid_add(slave, v->proto, v->vid);
}

static void vfpath_slave_vid_del(struct net_device *slave, void *arg)
{
	struct vfpath_vid *v = arg;

	vlan_vid_del(slave, v->proto, v->vid);
}

/* Context: RTNL (ndo_vlan_rx_add_vid). Both slaves or neither. */
static int vfpath_vlan_rx_add_vid(struct net_device *dev, __be16 proto, u16 vid)
{
	struct vfpath_vid v = { .proto = proto, .vid = vid };

	ASSERT_RTNL();
	return vfpath_each_slave(netdev_priv(dev), vfpath_slave_vid_add,
				 vfpath_slave_vid_del, &v);
}

/* Context: RTNL (ndo_vlan_rx_kill_vid). */
static int vfpath_vlan_rx_kill_vid(struct net_device *dev, __be16 proto, u16 vid)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct vfpath_vid v = { .proto = proto, .vid = vid };
	struct net_device *slave;

	ASSERT_RTNL();
	vfpath_for_each_slave(vm, slave)
		vfpath_slave_vid_del(slave, &v);
	return 0;
}

/*
 * Context: RTNL (ndo_add_slave, `ip link set DEV master NAME`). The role
 * follows the bus (virtio = synthetic, else VF); vfpath_slave_attach()
 * refuses, with its reason in @extack, whatever may not join.
 */
static int vfpath_add_slave(struct net_device *dev, struct net_device *slave,
			    struct netlink_ext_ack *extack)
{
	ASSERT_RTNL();
	return vfpath_slave_attach(netdev_priv(dev), slave,
				   vfpath_synthetic_candidate(slave) ?
				   VFPATH_PATH_SYN : VFPATH_PATH_VF, extack);
}

/*
 * Context: RTNL (ndo_del_slave, `ip link set DEV nomaster`). Only a
 * manual master gives a slave up this way. An auto or STANDBY master
 * keeps its slaves, as net_failover (which has no ndo_del_slave) does:
 * systemd-networkd sends IFLA_MASTER=0 for a slave that a .network
 * matches without naming a master, and would take the pair apart. Such a
 * master goes with `ip link del`, its slaves released as they were.
 */
static int vfpath_del_slave(struct net_device *dev, struct net_device *slave)
{
	struct vfpath_master *vm = netdev_priv(dev);

	ASSERT_RTNL();
	if (vfpath_slave_path(vm, slave) < 0)
		return -EINVAL;
	if (vm->auto_created || vm->owner_ref) {
		net_info_ratelimited("%s: %s stays a slave: %s masters keep their slaves (ip link del %s releases both)\n",
				     dev->name, slave->name,
				     vm->auto_created ? "auto" : "STANDBY",
				     dev->name);
		return -EOPNOTSUPP;
	}
	vfpath_slave_detach(vm, slave, VFPATH_REASON_SLAVE_CHANGE);
	return 0;
}

/* Context: RTNL (ndo_init, from register_netdevice). */
static int vfpath_ndo_init(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);

	ASSERT_RTNL();
	vm->stats = netdev_alloc_pcpu_stats(struct vfpath_pcpu_stats);
	if (!vm->stats)
		return -ENOMEM;
	vfpath_datapath_init(vm);
	list_add_tail_rcu(&vm->list, &vfpath_masters);
	netif_carrier_off(dev);		/* until a slave can carry */
	return 0;
}

/*
 * Context: RTNL (ndo_uninit, from unregister_netdevice). Releases both
 * slaves as they were before joining: plain NICs again.
 */
static void vfpath_uninit(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *slave;

	ASSERT_RTNL();
	vfpath_datapath_stop(vm);
	vfpath_for_each_slave(vm, slave)
		vfpath_slave_detach(vm, slave, VFPATH_REASON_SLAVE_CHANGE);
	/* unregister_netdevice() waits for RCU readers before any free. */
	list_del_rcu(&vm->list);
	if (vm->owner_ref)	/* the drop-in must not destroy us again */
		RCU_INIT_POINTER(*vm->owner_ref, NULL);
}

/* Context: none, after unregistration (priv_destructor). */
static void vfpath_destructor(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);

	/* The works take RTNL; here it is not held, so wait for them. */
	cancel_delayed_work_sync(&vm->settle_work);
	cancel_delayed_work_sync(&vm->notify_work);
	cancel_work_sync(&vm->carrier_work);
	free_percpu(vm->stats);
}

static const struct net_device_ops vfpath_netdev_ops = {
	.ndo_init		= vfpath_ndo_init,
	.ndo_uninit		= vfpath_uninit,
	.ndo_open		= vfpath_open,
	.ndo_stop		= vfpath_stop,
	.ndo_start_xmit		= vfpath_start_xmit,
	.ndo_get_stats64	= vfpath_get_stats64,
	.ndo_change_mtu		= vfpath_change_mtu,
	.ndo_set_rx_mode	= vfpath_set_rx_mode,
	.ndo_change_rx_flags	= vfpath_change_rx_flags,
	.ndo_vlan_rx_add_vid	= vfpath_vlan_rx_add_vid,
	.ndo_vlan_rx_kill_vid	= vfpath_vlan_rx_kill_vid,
	.ndo_add_slave		= vfpath_add_slave,
	.ndo_del_slave		= vfpath_del_slave,
	.ndo_set_mac_address	= vfpath_set_mac_address,
	.VFPATH_NDO_ETH_IOCTL	= vfpath_eth_ioctl,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_features_check	= passthru_features_check,
	.ndo_fix_features	= vfpath_fix_features,
#ifdef CONFIG_NET_POLL_CONTROLLER
	.ndo_poll_controller	= vfpath_poll_controller,
	.ndo_netpoll_setup	= vfpath_netpoll_setup,
	.ndo_netpoll_cleanup	= vfpath_netpoll_cleanup,
#endif
};

/* Context: any. */
bool vfpath_is_master(const struct net_device *dev)
{
	return dev->netdev_ops == &vfpath_netdev_ops;
}

/* Context: RTNL (rtnl_link_ops->setup, or auto pairing before register). */
void vfpath_master_setup(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);

	ether_setup(dev);
	dev->netdev_ops = &vfpath_netdev_ops;
	dev->ethtool_ops = &vfpath_ethtool_ops;
	dev->sysfs_groups[0] = &vfpath_sysfs_group;
	dev->rtnl_link_ops = &vfpath_link_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = vfpath_destructor;
	/* Live MAC changes: both slaves take it (vfpath_set_mac_address). */
	dev->priv_flags |= IFF_NO_QUEUE | IFF_FAILOVER | IFF_UNICAST_FLT |
			   IFF_LIVE_ADDR_CHANGE;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	/*
	 * Tunnel GSO too (as bonding and net_failover offer it): a VXLAN or
	 * GRE super-frame crosses the master whole and is segmented by the
	 * slave, in hardware if the VF can, else by dev_queue_xmit() there.
	 */
	dev->hw_features = VFPATH_FEATURES | NETIF_F_HW_VLAN_CTAG_TX |
			   NETIF_F_HW_VLAN_CTAG_RX | NETIF_F_HW_VLAN_CTAG_FILTER |
			   NETIF_F_GSO_ENCAP_ALL;
	/* Slaves must share the master's netns: the master stays in its own. */
	dev->features = dev->hw_features;
	vfpath_compat_set_netns_local(dev);
	vfpath_compat_set_lltx(dev);
	dev->vlan_features = VFPATH_FEATURES;
	dev->hw_enc_features = VFPATH_FEATURES & ~NETIF_F_LRO;
	/* Until slaves join: vfpath_features.c; STANDBY: the standby's. */
	vm->min_mtu = ETH_MIN_MTU;
	vm->max_mtu = ETH_MAX_MTU;
	dev->min_mtu = vm->min_mtu;
	dev->max_mtu = vm->max_mtu;
	vm->dev = dev;
	vm->settle_ms = vfpath_settle_ms;
	vm->peer_notify = vfpath_peer_notify;
	vm->peer_notify_interval_ms = vfpath_peer_notify_interval_ms;
	atomic64_set(&vm->tx_dropped_no_path, 0);
	eth_hw_addr_random(dev);
}
