// SPDX-License-Identifier: GPL-2.0
/*
 * Masters made for virtio-net's STANDBY feature (QEMU failover=on, libvirt
 * <teaming>). Stock virtio_net calls net_failover_create() for its netdev
 * before registering it, and net_failover_destroy() after unregistering it;
 * our drop-in net_failover.ko (vfpath_dropin.c) turns those calls into the
 * two functions below.
 *
 * The master looks to userspace as net_failover's does: named "eth%d",
 * registered before the standby (master eth0, standby eth1, VF eth2), with
 * the standby's parent device (so udev's path-based names apply) and its
 * MAC as permanent address. The standby joins it when it registers, and a
 * PCI netdev with the same permanent MAC joins it as the VF, whenever it
 * comes (QEMU hides the primary until the guest acks STANDBY).
 */
#include <linux/etherdevice.h>
#include <linux/export.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"
#include "vfpath_standby.h"

/* Context: RTNL. The master created for @standby, still waiting for it. */
struct vfpath_master *vfpath_standby_master_for(const struct net_device *standby)
{
	struct vfpath_master *vm;

	ASSERT_RTNL();
	list_for_each_entry(vm, &vfpath_masters, list)
		if (vm->standby_for == standby)
			return vm;
	return NULL;
}

/**
 * vfpath_standby_create - a master for a virtio-net standby netdev
 * @standby: the virtio-net netdev, allocated but not registered yet
 * @ref: where to publish the master; cleared when the master goes away
 *
 * Context: process, RTNL not held (virtio_net's probe); takes RTNL.
 * Return: 0 or a negative errno.
 */
int vfpath_standby_create(struct net_device *standby,
			  struct net_device __rcu **ref)
{
	struct net_device *dev, *vf;
	struct vfpath_master *vm;
	int err;

	dev = alloc_netdev(sizeof(*vm), "eth%d", NET_NAME_ENUM,
			   vfpath_master_setup);
	if (!dev)
		return -ENOMEM;
	dev_net_set(dev, dev_net(standby));
	SET_NETDEV_DEV(dev, standby->dev.parent);
	/* NET_ADDR_PERM: registration copies it to perm_addr, as for a NIC. */
	eth_hw_addr_set(dev, standby->dev_addr);
	dev->addr_assign_type = NET_ADDR_PERM;
	dev->mtu = standby->mtu;
	vm = netdev_priv(dev);
	/*
	 * The standby's MTU bounds from the start, not from when it joins: an
	 * MTU set on the master in between (udev, networkd) would otherwise
	 * make the standby refuse it, and refused, it never joins.
	 */
	vm->min_mtu = standby->min_mtu;
	vm->max_mtu = standby->max_mtu;
	dev->min_mtu = vm->min_mtu;
	dev->max_mtu = vm->max_mtu;
	vm->standby_for = standby;
	vm->owner_ref = ref;

	rtnl_lock();
	err = register_netdevice(dev);
	if (err) {
		rtnl_unlock();
		dev_err(standby->dev.parent,
			"vfpath: standby master not registered: %d\n", err);
		free_netdev(dev);
		return err;
	}
	rcu_assign_pointer(*ref, dev);
	netdev_info(dev, "master for a STANDBY virtio-net, MAC %pM\n",
		    dev->perm_addr);
	/* A VF that came before its standby (QEMU plugs it on STANDBY ack). */
	vf = vfpath_pair_find(dev_net(dev), dev->perm_addr, NULL,
			      vfpath_vf_candidate);
	if (vf)
		vfpath_slave_attach(vm, vf, VFPATH_PATH_VF, NULL);
	rtnl_unlock();
	return 0;
}
EXPORT_SYMBOL_GPL(vfpath_standby_create);

/**
 * vfpath_standby_destroy - removes the master published in @ref, if any
 * @ref: as given to vfpath_standby_create()
 *
 * Context: process, RTNL not held (virtio_net's remove or probe error);
 * takes RTNL. The VF, if still a slave, is released as it was.
 */
void vfpath_standby_destroy(struct net_device __rcu **ref)
{
	struct net_device *dev;

	rtnl_lock();
	dev = rtnl_dereference(*ref);
	if (dev)
		unregister_netdevice(dev);	/* ndo_uninit clears *ref */
	rtnl_unlock();
}
EXPORT_SYMBOL_GPL(vfpath_standby_destroy);
