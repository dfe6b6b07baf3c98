// SPDX-License-Identifier: GPL-2.0
/*
 * The VF (primary) side. A VF is a netdev whose parent is a PCI function;
 * in the lab an emulated e1000e on a hot-pluggable root port plays it.
 */
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"

/* Context: RTNL or RCU; @dev is held by the caller. */
bool vfpath_vf_candidate(const struct net_device *dev)
{
	return dev->type == ARPHRD_ETHER && dev->dev.parent &&
	       dev_is_pci(dev->dev.parent);
}

/*
 * Context: RCU. @pdev is the parent of some master's VF. Checked before
 * taking RTNL, which every PCI unbind on the system would otherwise wait
 * for; the masters list is RCU-safe (vfpath_netdev.c), and a VF netdev
 * is not freed before a grace period after it left its slot.
 */
static bool vfpath_vf_parent(const struct device *pdev)
{
	struct vfpath_master *vm;
	struct net_device *vf;
	bool found = false;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &vfpath_masters, list) {
		vf = rcu_dereference(vm->slave[VFPATH_PATH_VF]);
		if (vf && vf->dev.parent == pdev) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * Context: process, from the driver core, before the VF's PCI driver is
 * unbound (hot-unplug, rmmod, sysfs unbind); takes RTNL only if @data is
 * an enslaved VF's parent. Traffic leaves the VF now, while its driver
 * still works, and no CPU is left in its transmit when we return: on an
 * orderly removal, nothing in flight is lost.
 */
static int vfpath_vf_bus_event(struct notifier_block *nb,
			       unsigned long action, void *data)
{
	struct device *pdev = data;
	struct vfpath_master *vm;
	struct net_device *vf;
	bool moved = false;

	if (action != BUS_NOTIFY_UNBIND_DRIVER || !vfpath_vf_parent(pdev))
		return NOTIFY_DONE;
	rtnl_lock();
	list_for_each_entry(vm, &vfpath_masters, list) {
		vf = rtnl_dereference(vm->slave[VFPATH_PATH_VF]);
		if (!vf || vf->dev.parent != pdev)
			continue;
		vm->vf_going = true;
		vfpath_vf_changed(vm, VFPATH_REASON_VF_UNBIND);
		moved = true;
	}
	rtnl_unlock();
	if (moved)
		synchronize_net();
	return NOTIFY_DONE;
}

static struct notifier_block vfpath_vf_bus_nb = {
	.notifier_call = vfpath_vf_bus_event,
};

/* Context: process, module init. */
int vfpath_vf_bus_notifier_register(void)
{
	return bus_register_notifier(&pci_bus_type, &vfpath_vf_bus_nb);
}

/* Context: process, module exit. */
void vfpath_vf_bus_notifier_unregister(void)
{
	bus_unregister_notifier(&pci_bus_type, &vfpath_vf_bus_nb);
}
