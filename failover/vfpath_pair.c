// SPDX-License-Identifier: GPL-2.0
/*
 * Pairing and the netdev notifier.
 *
 * Auto pairing (module parameter auto_pair, on by default): a virtio-net
 * netdev and a PCI Ethernet netdev with the same permanent MAC form a pair,
 * in either order of arrival, including devices that existed before the
 * module loaded (registering the notifier replays their NETDEV_REGISTER).
 * The master is created when the first pair forms, and lives as long as its
 * synthetic slave: a VF that leaves and comes back (a migration) joins the
 * same master again.
 *
 * The master of an auto pair is named "vfp" and the last three bytes of the
 * MAC in hex (52:54:00:5f:00:02 gives vfp5f0002): stable across boots and
 * hosts. If that name is taken, "vfp%d".
 *
 * The notifier is a thin switch: one handler per event.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"

/*
 * Context: RTNL. Free to join a pair: no upper, not one of ours, and a
 * permanent MAC to pair by. A netdev with a random MAC (a virtio-net
 * without one from the host, a VF the host gave none) has a zero
 * permanent MAC, which all such share: it pairs with nothing.
 */
static bool vfpath_pair_free(const struct net_device *dev)
{
	return !netdev_has_any_upper_dev((struct net_device *)dev) &&
	       !vfpath_is_master(dev) && is_valid_ether_addr(dev->perm_addr);
}

/* Context: RTNL. Creates a master over @syn and @vf (both free). */
static void vfpath_pair_create(struct net_device *syn, struct net_device *vf)
{
	const u8 *mac = syn->perm_addr;
	struct vfpath_master *vm;
	struct net_device *dev;
	char name[IFNAMSIZ];
	int err;

	ASSERT_RTNL();
	snprintf(name, sizeof(name), "vfp%02x%02x%02x", mac[3], mac[4], mac[5]);
	if (__dev_get_by_name(dev_net(syn), name))
		strscpy(name, "vfp%d", sizeof(name));
	dev = alloc_netdev(sizeof(*vm), name, NET_NAME_PREDICTABLE,
			   vfpath_master_setup);
	if (!dev) {
		pr_err("no memory for a master over %s and %s\n",
		       syn->name, vf->name);
		return;
	}
	dev_net_set(dev, dev_net(syn));
	/*
	 * The pair's MAC as the master's permanent one (registration copies
	 * it to perm_addr), as a STANDBY master has it: what matches a NIC
	 * by MAC (netplan's PermanentMACAddress=, cloud-init, which drops a
	 * device whose address is stolen) then finds the master too, and
	 * vfpath's udev rules keep the slaves out of it.
	 */
	eth_hw_addr_set(dev, syn->perm_addr);
	dev->addr_assign_type = NET_ADDR_PERM;
	dev->mtu = syn->mtu;
	vm = netdev_priv(dev);
	vm->auto_created = true;

	err = register_netdevice(dev);
	if (err) {
		pr_err("master over %s and %s not registered: %d\n",
		       syn->name, vf->name, err);
		free_netdev(dev);
		return;
	}
	netdev_info(dev, "paired %s (synthetic) and %s (vf) by MAC %pM\n",
		    syn->name, vf->name, mac);
	err = vfpath_slave_attach(vm, syn, VFPATH_PATH_SYN, NULL);
	if (err)
		goto err_unregister_master;
	err = vfpath_slave_attach(vm, vf, VFPATH_PATH_VF, NULL);
	if (err)
		netdev_warn(dev, "VF %s not attached: %d\n", vf->name, err);
	return;

err_unregister_master:
	unregister_netdevice(dev);
}

/*
 * Context: RTNL. A free netdev of @net, other than @except, that can play
 * @role and has permanent MAC @mac; or NULL.
 */
struct net_device *vfpath_pair_find(struct net *net, const u8 *mac,
				    const struct net_device *except,
				    bool (*role)(const struct net_device *))
{
	struct net_device *other;

	ASSERT_RTNL();
	for_each_netdev(net, other)
		if (other != except && role(other) && vfpath_pair_free(other) &&
		    ether_addr_equal(other->perm_addr, mac))
			return other;
	return NULL;
}

/*
 * Context: RTNL. A master @vf may join as VF: one made for a STANDBY
 * virtio-net with @vf's MAC, or (with auto pairing) one whose synthetic
 * slave has it; without a VF yet, in @vf's netns.
 */
static struct vfpath_master *vfpath_pair_master_for_vf(struct net_device *vf)
{
	struct vfpath_master *vm;
	struct net_device *syn;

	ASSERT_RTNL();
	list_for_each_entry(vm, &vfpath_masters, list) {
		if (rtnl_dereference(vm->slave[VFPATH_PATH_VF]) ||
		    !net_eq(dev_net(vm->dev), dev_net(vf)))
			continue;
		if (vm->owner_ref &&
		    ether_addr_equal(vm->dev->perm_addr, vf->perm_addr))
			return vm;
		syn = rtnl_dereference(vm->slave[VFPATH_PATH_SYN]);
		if (vfpath_auto_pair && syn &&
		    ether_addr_equal(syn->perm_addr, vf->perm_addr))
			return vm;
	}
	return NULL;
}

/*
 * Context: RTNL. @dev registered: it joins the STANDBY master made for it,
 * or as VF a master that wants it; else, with auto pairing, it forms a new
 * pair with a free partner of the other role and the same MAC.
 */
void vfpath_pair_try(struct net_device *dev)
{
	struct vfpath_master *vm;
	struct net_device *other;

	ASSERT_RTNL();
	if (!vfpath_pair_free(dev) || vfpath_unloading)
		return;

	if (vfpath_synthetic_candidate(dev)) {
		vm = vfpath_standby_master_for(dev);
		if (vm) {
			vm->standby_for = NULL;
			vfpath_slave_attach(vm, dev, VFPATH_PATH_SYN, NULL);
			return;
		}
		if (!vfpath_auto_pair)
			return;
		other = vfpath_pair_find(dev_net(dev), dev->perm_addr, dev,
					 vfpath_vf_candidate);
		if (other)
			vfpath_pair_create(dev, other);
		return;
	}
	if (!vfpath_vf_candidate(dev))
		return;
	/* A VF coming back joins the master its synthetic slave is in. */
	vm = vfpath_pair_master_for_vf(dev);
	if (vm) {
		vfpath_slave_attach(vm, dev, VFPATH_PATH_VF, NULL);
		return;
	}
	if (!vfpath_auto_pair)
		return;
	other = vfpath_pair_find(dev_net(dev), dev->perm_addr, dev,
				 vfpath_synthetic_candidate);
	if (other)
		vfpath_pair_create(other, dev);
}

/* Context: RTNL. A slave is unregistering: release it. */
static void vfpath_on_unregister(struct vfpath_master *vm,
				 struct net_device *slave, int path)
{
	ASSERT_RTNL();
	vfpath_slave_detach(vm, slave, VFPATH_REASON_VF_UNREGISTER);
	/* An auto master lives as long as its synthetic slave. */
	if (path == VFPATH_PATH_SYN && vm->auto_created && !vm->dead)
		unregister_netdevice(vm->dev);
}

/* Context: RTNL. The VF's state changed. */
static void vfpath_on_vf_event(struct vfpath_master *vm, unsigned long event)
{
	ASSERT_RTNL();
	switch (event) {
	case NETDEV_GOING_DOWN:
		vm->vf_closing = true;
		vfpath_vf_changed(vm, VFPATH_REASON_VF_DOWN);
		synchronize_net();	/* no transmit left in the VF's xmit */
		break;
	case NETDEV_UP:
		vm->vf_closing = false;
		vfpath_vf_changed(vm, VFPATH_REASON_VF_READY);
		break;
	case NETDEV_DOWN:
		vfpath_vf_changed(vm, VFPATH_REASON_VF_DOWN);
		break;
	case NETDEV_CHANGE:
		vfpath_vf_changed(vm, VFPATH_REASON_VF_CARRIER);
		break;
	}
}

/* Context: RTNL. The synthetic slave's state changed. */
static void vfpath_on_syn_event(struct vfpath_master *vm, unsigned long event)
{
	ASSERT_RTNL();
	switch (event) {
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		vfpath_update_path(vm, VFPATH_REASON_SLAVE_CHANGE);
		break;
	case NETDEV_NOTIFY_PEERS:
		/* virtio's announce after a migration: repeat it as ours. */
		vfpath_announce(vm);
		break;
	}
}

/* Context: RTNL (netdev notifier chain). */
static int vfpath_netdev_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct vfpath_master *vm;
	int path;

	ASSERT_RTNL();
	if (vfpath_is_master(dev))
		return NOTIFY_DONE;
	if (event == NETDEV_REGISTER) {
		vfpath_pair_try(dev);
		return NOTIFY_DONE;
	}
	vm = vfpath_master_of_slave(dev);
	if (!vm)
		return NOTIFY_DONE;
	path = vfpath_slave_path(vm, dev);
	if (path < 0)
		return NOTIFY_DONE;

	if (event == NETDEV_UNREGISTER)
		vfpath_on_unregister(vm, dev, path);
	else if (event == NETDEV_FEAT_CHANGE)
		vfpath_sync_features(vm);
	else if (path == VFPATH_PATH_VF)
		vfpath_on_vf_event(vm, event);
	else
		vfpath_on_syn_event(vm, event);
	return NOTIFY_DONE;
}

static struct notifier_block vfpath_netdev_notifier = {
	.notifier_call = vfpath_netdev_event,
};

/* Context: process, module init; replays NETDEV_REGISTER for all netdevs. */
int vfpath_notifier_register(void)
{
	return register_netdevice_notifier(&vfpath_netdev_notifier);
}

/*
 * Context: process, module exit. Unregistering replays NETDEV_UNREGISTER
 * for every netdev: each slave is released as it was.
 */
void vfpath_notifier_unregister(void)
{
	unregister_netdevice_notifier(&vfpath_netdev_notifier);
}
