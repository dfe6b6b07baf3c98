/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfpath.ko offers the drop-in net_failover.ko. Kept apart from
 * vfpath.h on purpose: the drop-in must see exactly the types the in-kernel
 * net_failover.c sees, or its exports' CRCs change (see vfpath_dropin.c).
 */
#ifndef _VFPATH_STANDBY_H
#define _VFPATH_STANDBY_H

struct net_device;

int vfpath_standby_create(struct net_device *standby,
			  struct net_device __rcu **ref);
void vfpath_standby_destroy(struct net_device __rcu **ref);

#endif /* _VFPATH_STANDBY_H */
