// SPDX-License-Identifier: GPL-2.0
/*
 * The "vfpath" rtnl link kind: `ip link add NAME type vfpath` creates a
 * master, `ip link del NAME` removes it, and module unload removes them all.
 */
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

#include "vfpath.h"

struct rtnl_link_ops vfpath_link_ops __read_mostly = {
	.kind		= VFPATH_DRV_NAME,
	.priv_size	= sizeof(struct vfpath_master),
	.setup		= vfpath_master_setup,
};

/* Context: process, module init; takes RTNL itself. */
int vfpath_link_register(void)
{
	return rtnl_link_register(&vfpath_link_ops);
}

/* Context: process, module exit; takes RTNL and deletes every master. */
void vfpath_link_unregister(void)
{
	rtnl_link_unregister(&vfpath_link_ops);
}

MODULE_ALIAS_RTNL_LINK(VFPATH_DRV_NAME);
