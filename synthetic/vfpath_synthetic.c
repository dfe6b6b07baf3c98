// SPDX-License-Identifier: GPL-2.0
/*
 * The synthetic (standby) side: a virtio-net netdev, recognised by its
 * parent device sitting on the virtio bus.
 */
#include <linux/device.h>
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/string.h>

#include "vfpath.h"

/* Context: RTNL or RCU; @dev is held by the caller. */
bool vfpath_synthetic_candidate(const struct net_device *dev)
{
	const struct device *parent = dev->dev.parent;

	return dev->type == ARPHRD_ETHER && parent && parent->bus &&
	       !strcmp(parent->bus->name, "virtio");
}
