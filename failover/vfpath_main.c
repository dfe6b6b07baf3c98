// SPDX-License-Identifier: GPL-2.0
/*
 * vfpath - pairs an SR-IOV VF with a virtio-net NIC under one netdev, so a
 * guest keeps its address and its connections while the VF is revoked for a
 * live migration and another one is offered on the destination host.
 *
 * This file only loads and unloads the module; the master netdev, its link
 * kind and the two slave roles live in their own files.
 */
#include <linux/module.h>

#include "vfpath.h"

static int __init vfpath_init(void)
{
	int err;

	err = vfpath_link_register();
	if (err)
		return err;
	pr_info("version %s loaded\n", VFPATH_DRV_VERSION);
	return 0;
}

static void __exit vfpath_exit(void)
{
	vfpath_link_unregister();
	pr_info("unloaded\n");
}

module_init(vfpath_init);
module_exit(vfpath_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VF + virtio-net failover master for live-migratable guests");
MODULE_VERSION(VFPATH_DRV_VERSION);
