// SPDX-License-Identifier: GPL-2.0
/*
 * net_failover.ko, vfpath's drop-in: the two functions stock virtio_net
 * calls when the device offers VIRTIO_NET_F_STANDBY (QEMU failover=on),
 * served by a vfpath master instead of net_failover's three-netdev model.
 *
 * virtio_net was built against the in-kernel net_failover, so the kernel
 * only links it against ours if our exports carry the same symbol CRCs.
 * genksyms computes a CRC over the full definitions of every type the
 * prototype reaches, as this file sees them: the includes below are those
 * of drivers/net/net_failover.c, in its order, and nothing else may be
 * added above them. `make` compares the CRCs with the target kernel's
 * Module.symvers (scripts/build/check-crc).
 */
#ifndef VFPATH_DROPIN_BREAK_CRC
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/netpoll.h>
#include <linux/rtnetlink.h>
#include <linux/if_vlan.h>
#include <linux/pci.h>
#include <net/sch_generic.h>
#include <uapi/linux/if_arp.h>
#include <net/net_failover.h>
#else
/* For the test that a mismatch is caught: fewer types, other CRCs. */
#include <linux/module.h>
#include <linux/slab.h>
#include <net/net_failover.h>
#endif

#include "vfpath_standby.h"
#include "vfpath_version.h"

/**
 * net_failover_create - a vfpath master for a STANDBY virtio-net netdev
 * @standby_dev: virtio-net's netdev, not registered yet
 *
 * Context: process (virtio_net's probe), RTNL not held.
 * Return: a handle for net_failover_destroy(), or an ERR_PTR.
 */
struct failover *net_failover_create(struct net_device *standby_dev)
{
	struct failover *failover;
	int err;

	failover = kzalloc(sizeof(*failover), GFP_KERNEL);
	if (!failover)
		return ERR_PTR(-ENOMEM);
	err = vfpath_standby_create(standby_dev, &failover->failover_dev);
	if (err) {
		kfree(failover);
		return ERR_PTR(err);
	}
	return failover;
}
EXPORT_SYMBOL_GPL(net_failover_create);

/**
 * net_failover_destroy - removes the master, releasing its VF as it was
 * @failover: what net_failover_create() returned, or NULL
 *
 * Context: process (virtio_net's remove or probe error), RTNL not held.
 */
void net_failover_destroy(struct failover *failover)
{
	if (!failover)
		return;
	vfpath_standby_destroy(&failover->failover_dev);
	kfree(failover);
}
EXPORT_SYMBOL_GPL(net_failover_destroy);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfpath drop-in for net_failover: STANDBY virtio-net gets a vfpath master");
MODULE_VERSION(VFPATH_DRV_VERSION);
