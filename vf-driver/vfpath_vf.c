// SPDX-License-Identifier: GPL-2.0
/*
 * The VF (primary) side. A VF is a netdev whose parent is a PCI function;
 * in the lab an emulated e1000e on a hot-pluggable root port plays it.
 */
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/pci.h>

#include "vfpath.h"

/* Context: RTNL or RCU; @dev is held by the caller. */
bool vfpath_vf_candidate(const struct net_device *dev)
{
	return dev->type == ARPHRD_ETHER && dev->dev.parent &&
	       dev_is_pci(dev->dev.parent);
}
