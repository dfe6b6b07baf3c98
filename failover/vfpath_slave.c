// SPDX-License-Identifier: GPL-2.0
/*
 * Slaves joining and leaving a master, and what they receive.
 *
 * A slave is refused unless it could only ever be this master's: same netns,
 * no upper device already, Ethernet, not a vfpath master, and its role slot
 * free. On joining it takes the master's MTU (or is refused), gets the rx
 * handler, the upper link and IFF_FAILOVER_SLAVE, and the master's address
 * lists and VLAN filters. Leaving undoes all of that, so a released slave
 * works on as a plain NIC.
 *
 * Receive: every frame from either slave is delivered as the master's,
 * always. net_failover drops frames arriving on the standby while a primary
 * exists (RX_HANDLER_EXACT); a host bridge whose FDB still points at the
 * standby's tap then black-holes traffic. vfpath does not. The one
 * exception: frames from the master's own MAC are its own, looped back.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"

/* Context: RCU (rx_handler, softirq). */
static rx_handler_result_t vfpath_handle_frame(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct vfpath_master *vm = rcu_dereference(skb->dev->rx_handler_data);
	struct vfpath_pcpu_stats *st;
	int path;

	path = skb->dev == rcu_access_pointer(vm->slave[VFPATH_PATH_VF]) ?
	       VFPATH_PATH_VF : VFPATH_PATH_SYN;
	st = this_cpu_ptr(vm->stats);
	/*
	 * Our own broadcasts and multicasts, sent on one path, come back on
	 * the other through the host's bridge: not news, and duplicates.
	 */
	if (unlikely(ether_addr_equal(eth_hdr(skb)->h_source, vm->dev->dev_addr))) {
		u64_stats_update_begin(&st->syncp);
		u64_stats_inc(&st->rx_looped);
		u64_stats_update_end(&st->syncp);
		consume_skb(skb);	/* handled, not dropped: no drop monitor hit */
		return RX_HANDLER_CONSUMED;
	}
	u64_stats_update_begin(&st->syncp);
	u64_stats_inc(&st->rx_packets[path]);
	u64_stats_add(&st->rx_bytes[path], skb->len + ETH_HLEN);
	u64_stats_update_end(&st->syncp);

	skb->dev = vm->dev;
	return RX_HANDLER_ANOTHER;
}

/* Context: RTNL. The master @slave belongs to, or NULL. */
struct vfpath_master *vfpath_master_of_slave(const struct net_device *slave)
{
	ASSERT_RTNL();
	if (rcu_access_pointer(slave->rx_handler) != vfpath_handle_frame)
		return NULL;
	return rtnl_dereference(slave->rx_handler_data);
}

/* Context: RTNL. The role of @slave in @vm, or -1. */
int vfpath_slave_path(const struct vfpath_master *vm,
		      const struct net_device *slave)
{
	int p;

	ASSERT_RTNL();
	for (p = 0; p < VFPATH_PATH_MAX; p++)
		if (rtnl_dereference(vm->slave[p]) == slave)
			return p;
	return -1;
}

/* Context: RTNL. Why @slave may not join @vm as @path, or NULL. */
static const char *vfpath_slave_refusal(struct vfpath_master *vm,
					struct net_device *slave,
					enum vfpath_path path)
{
	struct net_device *dev = vm->dev;

	if (slave == dev || vfpath_is_master(slave))
		return "vfpath: a vfpath master cannot be a slave";
	if (slave->type != ARPHRD_ETHER || slave->addr_len != ETH_ALEN)
		return "vfpath: slave is not an Ethernet device";
	if (!net_eq(dev_net(slave), dev_net(dev)))
		return "vfpath: slave is in another network namespace";
	if (netdev_has_any_upper_dev(slave))
		return "vfpath: slave already has an upper device";
	/* Either role may be given to either kind; see vfpath_slave_set_role. */
	if (!vfpath_vf_candidate(slave) && !vfpath_synthetic_candidate(slave))
		return "vfpath: slave must be a virtio-net or a PCI Ethernet device";
	if (rtnl_dereference(vm->slave[path]))
		return path == VFPATH_PATH_VF ?
		       "vfpath: master already has a VF" :
		       "vfpath: master already has a synthetic slave";
	return NULL;
}

/*
 * Context: RTNL. Attaches @slave as @path of @vm; on failure, @extack says
 * why and nothing is left changed.
 */
int vfpath_slave_attach(struct vfpath_master *vm, struct net_device *slave,
			enum vfpath_path path, struct netlink_ext_ack *extack)
{
	struct net_device *dev = vm->dev;
	const char *why;
	int orig_mtu = slave->mtu;
	int err;

	ASSERT_RTNL();
	why = vfpath_slave_refusal(vm, slave, path);
	if (why) {
		if (extack)
			extack->_msg = why;	/* a string literal, see above */
		netdev_info(dev, "refused %s: %s\n", slave->name, why);
		return -EINVAL;
	}

	if (slave->mtu != dev->mtu) {
		err = dev_set_mtu(slave, dev->mtu);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "vfpath: slave cannot take the master's MTU");
			netdev_err(dev, "slave %s refused MTU %u: %d\n",
				   slave->name, dev->mtu, err);
			return err;
		}
	}

	err = netdev_rx_handler_register(slave, vfpath_handle_frame, vm);
	if (err) {
		NL_SET_ERR_MSG(extack, "vfpath: slave already has an rx handler");
		goto err_restore_mtu;
	}

	err = netdev_master_upper_dev_link(slave, dev, NULL, NULL, extack);
	if (err)
		goto err_unregister_handler;

	/*
	 * IFF_SLAVE keeps IPv6 addrconf off the slave, as hv_netvsc does for
	 * its VF: two slaves with one MAC would otherwise run DAD for the
	 * same link-local address, and each would see the other's probe.
	 */
	slave->flags |= IFF_SLAVE;
	/* udev renames slaves while they are up; traffic must go on. */
	slave->priv_flags |= IFF_FAILOVER_SLAVE | IFF_LIVE_RENAME_OK;
	dev_hold(slave);

	if (netif_running(dev)) {
		err = dev_open(slave, extack);
		if (err && err != -EBUSY)
			netdev_warn(dev, "slave %s did not open: %d\n",
				    slave->name, err);
	}
	/*
	 * The master's promisc/allmulti reach its slaves whether it runs or
	 * not, as ndo_change_rx_flags passes them on: taken here, given back
	 * at detach, so the slave's counts stay balanced (bonding does so).
	 */
	if (dev->flags & IFF_PROMISC)
		dev_set_promiscuity(slave, 1);
	if (dev->flags & IFF_ALLMULTI)
		dev_set_allmulti(slave, 1);
	netif_addr_lock_bh(dev);
	dev_uc_sync_multiple(slave, dev);
	dev_mc_sync_multiple(slave, dev);
	netif_addr_unlock_bh(dev);
	err = vlan_vids_add_by_dev(slave, dev);
	if (err)
		netdev_warn(dev, "slave %s: VLAN filters not copied: %d\n",
			    slave->name, err);

	/* A master made by `ip link add` takes its first slave's MAC. */
	if (dev->addr_assign_type == NET_ADDR_RANDOM) {
		eth_hw_addr_set(dev, slave->perm_addr);
		dev->addr_assign_type = NET_ADDR_STOLEN;
		call_netdevice_notifiers(NETDEV_CHANGEADDR, dev);
	}

	rcu_assign_pointer(vm->slave[path], slave);
	vfpath_sync_features(vm);
	netdev_info(dev, "slave %s joined as %s\n", slave->name,
		    vfpath_path_name(path));
	if (path == VFPATH_PATH_VF)
		vfpath_vf_changed(vm, VFPATH_REASON_SLAVE_CHANGE);
	else
		vfpath_update_path(vm, VFPATH_REASON_SLAVE_CHANGE);
	return 0;

err_unregister_handler:
	netdev_rx_handler_unregister(slave);
err_restore_mtu:
	if (slave->mtu != orig_mtu)
		dev_set_mtu(slave, orig_mtu);
	return err;
}

/*
 * Context: RTNL. Takes @slave out of @vm: transmit leaves it first (and no
 * CPU is still in its xmit when the role slot is cleared), then the links
 * made at attach time are undone.
 */
void vfpath_slave_detach(struct vfpath_master *vm, struct net_device *slave)
{
	struct net_device *dev = vm->dev;
	int path = vfpath_slave_path(vm, slave);

	ASSERT_RTNL();
	if (path < 0)
		return;

	RCU_INIT_POINTER(vm->slave[path], NULL);
	if (path == VFPATH_PATH_VF) {
		vfpath_vf_changed(vm, VFPATH_REASON_VF_UNREGISTER);
		vm->vf_going = false;
		vm->vf_closing = false;
	} else {
		vfpath_update_path(vm, VFPATH_REASON_SLAVE_CHANGE);
	}
	synchronize_net();
	vfpath_sync_features(vm);

	vlan_vids_del_by_dev(slave, dev);
	/* Unlike the sync calls, these take both address locks. */
	dev_uc_unsync(slave, dev);
	dev_mc_unsync(slave, dev);
	/* What attach and ndo_change_rx_flags gave, running or not. */
	if (dev->flags & IFF_PROMISC)
		dev_set_promiscuity(slave, -1);
	if (dev->flags & IFF_ALLMULTI)
		dev_set_allmulti(slave, -1);
	netdev_rx_handler_unregister(slave);
	netdev_upper_dev_unlink(slave, dev);
	slave->priv_flags &= ~(IFF_FAILOVER_SLAVE | IFF_LIVE_RENAME_OK);
	slave->flags &= ~IFF_SLAVE;
	netdev_info(dev, "slave %s left (%s)\n", slave->name,
		    vfpath_path_name(path));
	dev_put(slave);
}

/*
 * Context: RTNL. Gives @slave of @vm role @path (IFLA_VFPATH_SLAVE_ROLE).
 * Roles are inferred from the bus (virtio = synthetic, PCI = VF), which is
 * wrong for a vDPA virtio-net device passed through as the fast path. The
 * slave leaves and joins again in its new role; the slave holding that role,
 * if any, takes the old one (a swap). If a join fails, both go back.
 */
int vfpath_slave_set_role(struct vfpath_master *vm, struct net_device *slave,
			  enum vfpath_path path, struct netlink_ext_ack *extack)
{
	int old = vfpath_slave_path(vm, slave);
	struct net_device *other;
	int err;

	ASSERT_RTNL();
	if (old < 0) {
		NL_SET_ERR_MSG(extack, "vfpath: not a slave of this master");
		return -EINVAL;
	}
	if (old == path)
		return 0;
	other = rtnl_dereference(vm->slave[path]);
	vfpath_slave_detach(vm, slave);
	if (other)
		vfpath_slave_detach(vm, other);

	err = vfpath_slave_attach(vm, slave, path, extack);
	if (err)
		goto err_restore_roles;
	if (other) {
		err = vfpath_slave_attach(vm, other, old, extack);
		if (err)
			goto err_detach_moved;
	}
	netdev_info(vm->dev, "slave %s given role %s\n", slave->name,
		    vfpath_path_name(path));
	return 0;

err_detach_moved:
	vfpath_slave_detach(vm, slave);
err_restore_roles:
	if (vfpath_slave_attach(vm, slave, old, NULL))
		netdev_err(vm->dev, "slave %s lost: could not rejoin\n",
			   slave->name);
	if (other && vfpath_slave_attach(vm, other, path, NULL))
		netdev_err(vm->dev, "slave %s lost: could not rejoin\n",
			   other->name);
	return err;
}
