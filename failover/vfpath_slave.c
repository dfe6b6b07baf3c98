// SPDX-License-Identifier: GPL-2.0
/*
 * Slaves joining and leaving a master, and what they receive.
 *
 * A slave is refused unless it could only ever be this master's: same netns,
 * no upper device already, Ethernet, not a vfpath master, and its role slot
 * free. On joining it takes the master's MTU and MAC (or is refused; a
 * master with no address of its own yet takes the slave's), gets the rx
 * handler, the upper link and IFF_FAILOVER_SLAVE, and the master's address
 * lists and VLAN filters. Leaving undoes all of that and gives back what
 * the slave had before (MAC, MTU, down if it was down), so a released slave
 * is the NIC it was; one that stays up is told so again (NETDEV_CHANGE),
 * which lets IPv6 configure the link-local address it kept off (IFF_SLAVE,
 * IFF_NO_ADDRCONF since 6.2).
 *
 * Receive: unicast from either slave is delivered as the master's, always.
 * net_failover drops frames arriving on the standby while a primary exists
 * (RX_HANDLER_EXACT); a host bridge whose FDB still points at the standby's
 * tap then black-holes traffic. vfpath does not. Broadcasts and multicasts
 * are another matter: the host floods each one to both taps, so they are
 * taken from the transmitting slave only (the one the host learned us on),
 * and a bridge or macvlan over the master never sees its own broadcasts
 * come back through the other path. Frames from the master's own MAC are
 * its own, looped back, and dropped whatever path they come on.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"

/*
 * Context: RCU (rx_handler, softirq). A broadcast or multicast from @slave
 * is delivered: @slave transmits, or nothing does.
 */
static bool vfpath_rx_from_tx_path(struct vfpath_master *vm,
				   const struct net_device *slave)
{
	struct net_device *tx = rcu_dereference(vm->tx_dev);

	return !tx || tx == slave;
}

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
	if (unlikely(is_multicast_ether_addr(eth_hdr(skb)->h_dest)) &&
	    !vfpath_rx_from_tx_path(vm, skb->dev)) {
		u64_stats_update_begin(&st->syncp);
		u64_stats_inc(&st->rx_other_path_mcast);
		u64_stats_update_end(&st->syncp);
		consume_skb(skb);	/* the other path's copy is delivered */
		return RX_HANDLER_CONSUMED;
	}
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

/* Context: RTNL. Sets @slave's MAC to @addr. */
int vfpath_slave_set_addr(struct net_device *slave, const u8 *addr,
			  struct netlink_ext_ack *extack)
{
	ASSERT_RTNL();
	return vfpath_compat_set_mac(slave, addr, extack);
}

/*
 * Context: RTNL. @slave takes the master's MAC @addr; the MAC it had
 * before it first took one is kept in @orig, to be given back at release.
 */
int vfpath_slave_give_addr(struct net_device *slave, const u8 *addr,
			   struct vfpath_slave_orig *orig,
			   struct netlink_ext_ack *extack)
{
	u8 own[ETH_ALEN];
	int err;

	ASSERT_RTNL();
	ether_addr_copy(own, slave->dev_addr);
	err = vfpath_slave_set_addr(slave, addr, extack);
	if (err || orig->addr_changed)
		return err;
	ether_addr_copy(orig->addr, own);
	orig->addr_changed = true;
	return 0;
}

/*
 * Context: RTNL. @slave about to join @vm: the MACs must agree. A master
 * whose address is still the random one it was born with (ip link add,
 * nothing set) takes the slave's; otherwise the slave takes the master's,
 * remembered in @orig to be given back. A STANDBY master takes only slaves
 * with its own MAC, as net_failover pairs by MAC and changes none.
 */
static int vfpath_slave_take_addr(struct vfpath_master *vm,
				  struct net_device *slave,
				  struct vfpath_slave_orig *orig,
				  struct netlink_ext_ack *extack)
{
	struct net_device *dev = vm->dev;
	int err;

	ASSERT_RTNL();
	if (ether_addr_equal(slave->dev_addr, dev->dev_addr))
		return 0;
	if (dev->addr_assign_type == NET_ADDR_RANDOM) {
		/* Its current MAC: a virtio-net with a random one has no perm. */
		eth_hw_addr_set(dev, slave->dev_addr);
		dev->addr_assign_type = NET_ADDR_STOLEN;
		call_netdevice_notifiers(NETDEV_CHANGEADDR, dev);
		return 0;
	}
	if (vm->owner_ref) {
		NL_SET_ERR_MSG(extack,
			       "vfpath: a STANDBY master takes only slaves with its MAC");
		return -EINVAL;
	}
	err = vfpath_slave_give_addr(slave, dev->dev_addr, orig, extack);
	if (err) {
		if (!(extack && extack->_msg))
			NL_SET_ERR_MSG(extack,
				       "vfpath: slave cannot take the master's MAC");
		netdev_err(dev, "slave %s refused MAC %pM: %d\n", slave->name,
			   dev->dev_addr, err);
	}
	return err;
}

/*
 * Context: RTNL. Tells udev that @slave joined or left a master: a change
 * event, so that its rules see the slave as it is now. Its add event may
 * have been handled before the pair formed (the first NIC of a pair
 * registers alone); vfpath's 99-vfpath.rules mark a slave so that
 * NetworkManager and systemd-networkd leave it to vfpath. Not for a slave
 * being unregistered: its remove event follows.
 */
static void vfpath_slave_uevent(struct net_device *slave)
{
	ASSERT_RTNL();
	if (slave->reg_state == NETREG_REGISTERED)
		kobject_uevent(&slave->dev.kobj, KOBJ_CHANGE);
}

/*
 * Context: RTNL. Attaches @slave as @path of @vm; on failure, @extack says
 * why and nothing is left changed. @keep, if not NULL, is what the slave
 * was before it first joined (a role swap moves it between slots).
 */
static int __vfpath_slave_attach(struct vfpath_master *vm,
				 struct net_device *slave, enum vfpath_path path,
				 struct netlink_ext_ack *extack,
				 const struct vfpath_slave_orig *keep)
{
	struct net_device *dev = vm->dev;
	struct vfpath_slave_orig orig = {
		.mtu = slave->mtu,
		.was_up = !!(slave->flags & IFF_UP),
	};
	unsigned char orig_assign_type = slave->addr_assign_type;
	const char *why;
	int err;

	ASSERT_RTNL();
	why = vfpath_slave_refusal(vm, slave, path);
	if (why) {
		if (extack)
			extack->_msg = why;	/* a string literal, see above */
		netdev_info(dev, "refused %s: %s\n", slave->name, why);
		return -EINVAL;
	}
	if (keep)
		orig = *keep;

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

	err = vfpath_slave_take_addr(vm, slave, &orig, extack);
	if (err)
		goto err_restore_mtu;

	err = netdev_rx_handler_register(slave, vfpath_handle_frame, vm);
	if (err) {
		NL_SET_ERR_MSG(extack, "vfpath: slave already has an rx handler");
		goto err_restore_addr;
	}

	err = netdev_master_upper_dev_link(slave, dev, NULL, NULL, extack);
	if (err)
		goto err_unregister_handler;

	err = vfpath_netpoll_slave_enable(vm, slave, path, extack);
	if (err)
		goto err_unlink_upper;

	/*
	 * IPv6 addrconf stays off the slave (IFF_SLAVE up to 6.1, as hv_netvsc
	 * does for its VF; IFF_NO_ADDRCONF since 6.2, as failover.c does):
	 * two slaves with one MAC would otherwise run DAD for the same
	 * link-local address, and each would see the other's probe. Set
	 * before dev_open(), which is when addrconf would look.
	 */
	slave->flags |= IFF_SLAVE;
	/* udev renames slaves while they are up; traffic must go on. */
	slave->priv_flags |= VFPATH_SLAVE_PRIV_FLAGS;
	dev_hold(slave);
	vm->orig[path] = orig;

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

	rcu_assign_pointer(vm->slave[path], slave);
	vfpath_sync_features(vm);
	netdev_info(dev, "slave %s joined as %s\n", slave->name,
		    vfpath_path_name(path));
	vfpath_slave_uevent(slave);
	if (path == VFPATH_PATH_VF)
		vfpath_vf_changed(vm, VFPATH_REASON_SLAVE_CHANGE);
	else
		vfpath_update_path(vm, VFPATH_REASON_SLAVE_CHANGE);
	return 0;

err_unlink_upper:
	netdev_upper_dev_unlink(slave, dev);
err_unregister_handler:
	netdev_rx_handler_unregister(slave);
err_restore_addr:
	if (orig.addr_changed && !keep) {
		vfpath_slave_set_addr(slave, orig.addr, NULL);
		slave->addr_assign_type = orig_assign_type;
	}
err_restore_mtu:
	if (slave->mtu != orig.mtu && !keep)
		dev_set_mtu(slave, orig.mtu);
	return err;
}

/* Context: RTNL. Attaches @slave as @path of @vm (see above). */
int vfpath_slave_attach(struct vfpath_master *vm, struct net_device *slave,
			enum vfpath_path path, struct netlink_ext_ack *extack)
{
	return __vfpath_slave_attach(vm, slave, path, extack, NULL);
}

/*
 * Context: RTNL. Gives a released @slave back what it had before it joined
 * (@orig). A slave being unregistered is left alone: its driver is going.
 */
static void vfpath_slave_restore(struct net_device *slave,
				 const struct vfpath_slave_orig *orig)
{
	int err;

	ASSERT_RTNL();
	if (slave->reg_state != NETREG_REGISTERED)
		return;
	if (orig->addr_changed) {
		err = vfpath_slave_set_addr(slave, orig->addr, NULL);
		if (err)
			netdev_warn(slave, "vfpath: MAC %pM not given back: %d\n",
				    orig->addr, err);
		else if (ether_addr_equal(slave->dev_addr, slave->perm_addr))
			slave->addr_assign_type = NET_ADDR_PERM;
	}
	if (slave->mtu != orig->mtu) {
		err = dev_set_mtu(slave, orig->mtu);
		if (err)
			netdev_warn(slave, "vfpath: MTU %d not given back: %d\n",
				    orig->mtu, err);
	}
	if (!orig->was_up)
		dev_close(slave);
	else
		netdev_state_change(slave);	/* addrconf, now allowed */
}

/*
 * Context: RTNL. Takes @slave out of @vm: transmit leaves it first (and no
 * CPU is still in its xmit when the role slot is cleared), then the links
 * made at attach time are undone; with @release, the slave also gets back
 * what it had before joining (not for a role swap: it joins again at once).
 * @reason is what the switch, if any, is counted as.
 */
static void __vfpath_slave_detach(struct vfpath_master *vm,
				  struct net_device *slave,
				  enum vfpath_reason reason, bool release)
{
	struct net_device *dev = vm->dev;
	int path = vfpath_slave_path(vm, slave);

	ASSERT_RTNL();
	if (path < 0)
		return;

	RCU_INIT_POINTER(vm->slave[path], NULL);
	if (path == VFPATH_PATH_VF) {
		vfpath_vf_changed(vm, reason);
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
	vfpath_netpoll_slave_disable(vm, path);
	netdev_rx_handler_unregister(slave);
	netdev_upper_dev_unlink(slave, dev);
	/* Before the restore: its NETDEV_CHANGE lets addrconf start. */
	slave->priv_flags &= ~VFPATH_SLAVE_PRIV_FLAGS;
	slave->flags &= ~IFF_SLAVE;
	if (release)
		vfpath_slave_restore(slave, &vm->orig[path]);
	netdev_info(dev, "slave %s left (%s)\n", slave->name,
		    vfpath_path_name(path));
	vfpath_slave_uevent(slave);
	dev_put(slave);
}

/* Context: RTNL. Releases @slave from @vm, restored (see above). */
void vfpath_slave_detach(struct vfpath_master *vm, struct net_device *slave,
			 enum vfpath_reason reason)
{
	__vfpath_slave_detach(vm, slave, reason, true);
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
	struct vfpath_slave_orig so, oo;
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
	so = vm->orig[old];
	oo = vm->orig[path];
	__vfpath_slave_detach(vm, slave, VFPATH_REASON_SLAVE_CHANGE, false);
	if (other)
		__vfpath_slave_detach(vm, other, VFPATH_REASON_SLAVE_CHANGE, false);

	err = __vfpath_slave_attach(vm, slave, path, extack, &so);
	if (err)
		goto err_restore_roles;
	if (other) {
		err = __vfpath_slave_attach(vm, other, old, extack, &oo);
		if (err)
			goto err_detach_moved;
	}
	netdev_info(vm->dev, "slave %s given role %s\n", slave->name,
		    vfpath_path_name(path));
	return 0;

err_detach_moved:
	__vfpath_slave_detach(vm, slave, VFPATH_REASON_SLAVE_CHANGE, false);
err_restore_roles:
	if (__vfpath_slave_attach(vm, slave, old, NULL, &so)) {
		netdev_err(vm->dev, "slave %s lost: could not rejoin\n",
			   slave->name);
		vfpath_slave_restore(slave, &so);
	}
	if (other && __vfpath_slave_attach(vm, other, path, NULL, &oo)) {
		netdev_err(vm->dev, "slave %s lost: could not rejoin\n",
			   other->name);
		vfpath_slave_restore(other, &oo);
	}
	return err;
}
