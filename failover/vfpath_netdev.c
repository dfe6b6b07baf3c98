// SPDX-License-Identifier: GPL-2.0
/*
 * The vfpath master netdev. It owns no queue: transmit is lockless and will
 * hand each frame to the slave the datapath selects. Until slaves are
 * attached there is no path, and every frame is dropped and counted.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>

#include "vfpath.h"

/* Context: RCU-bh (ndo_start_xmit), lockless. */
static netdev_tx_t vfpath_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);

	atomic64_inc(&vm->tx_dropped_no_path);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* Context: any; reads counters only. */
static void vfpath_get_stats64(struct net_device *dev,
			       struct rtnl_link_stats64 *stats)
{
	struct vfpath_master *vm = netdev_priv(dev);

	stats->tx_dropped = atomic64_read(&vm->tx_dropped_no_path);
}

static const struct net_device_ops vfpath_netdev_ops = {
	.ndo_start_xmit		= vfpath_start_xmit,
	.ndo_get_stats64	= vfpath_get_stats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/* Context: RTNL (rtnl_link_ops->setup, from rtnl_create_link). */
void vfpath_master_setup(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);

	ether_setup(dev);
	dev->netdev_ops = &vfpath_netdev_ops;
	dev->needs_free_netdev = true;
	dev->priv_flags |= IFF_NO_QUEUE | IFF_FAILOVER;
	dev->features |= NETIF_F_LLTX;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
	vm->dev = dev;
	atomic64_set(&vm->tx_dropped_no_path, 0);
	eth_hw_addr_random(dev);
}
