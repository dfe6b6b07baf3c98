/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfpath - one netdev over an SR-IOV VF and a virtio-net NIC.
 *
 * Every struct and prototype shared between the module's files lives here;
 * each file holds one concern (see README.md, "Source layout").
 */
#ifndef _VFPATH_H
#define _VFPATH_H

#include <linux/netdevice.h>
#include <linux/atomic.h>

#define VFPATH_DRV_NAME		"vfpath"
#define VFPATH_DRV_VERSION	"0.1.0"

/**
 * struct vfpath_master - private data of a vfpath master netdev
 * @dev: the master netdev itself
 * @tx_dropped_no_path: frames the master could give to no slave
 */
struct vfpath_master {
	struct net_device *dev;
	atomic64_t tx_dropped_no_path;
};

/* failover/vfpath_netdev.c: the master netdev */
void vfpath_master_setup(struct net_device *dev);

/* failover/vfpath_link.c: the "vfpath" rtnl link kind */
int vfpath_link_register(void);
void vfpath_link_unregister(void);

/* vf-driver/vfpath_vf.c: which netdevs may play the VF */
bool vfpath_vf_candidate(const struct net_device *dev);

/* synthetic/vfpath_synthetic.c: which netdevs may play the synthetic NIC */
bool vfpath_synthetic_candidate(const struct net_device *dev);

#endif /* _VFPATH_H */
