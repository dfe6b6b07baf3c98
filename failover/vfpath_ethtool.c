// SPDX-License-Identifier: GPL-2.0
/*
 * ethtool: -i names the driver and version, -S shows the per-path counters
 * (the table in vfpath_counters.c); link settings and timestamping are the
 * slave's that transmits (as net_failover and bonding report them), so
 * `ethtool MASTER`, /sys/class/net/MASTER/speed and `ethtool -T MASTER`
 * tell what the traffic gets now.
 */
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/string.h>

#include "vfpath.h"

/* Context: RTNL (ethtool ops). */
static void vfpath_get_drvinfo(struct net_device *dev,
			       struct ethtool_drvinfo *info)
{
	strscpy(info->driver, VFPATH_DRV_NAME, sizeof(info->driver));
	strscpy(info->version, VFPATH_DRV_VERSION, sizeof(info->version));
}

/* Context: RTNL (ethtool ops). */
static int vfpath_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? VFPATH_NR_COUNTERS : -EOPNOTSUPP;
}

/* Context: RTNL (ethtool ops). */
static void vfpath_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < VFPATH_NR_COUNTERS; i++)
		ethtool_sprintf(&buf, "%s", vfpath_counter_names[i]);
}

/* Context: RTNL (ethtool ops). */
static void vfpath_get_ethtool_stats(struct net_device *dev,
				     struct ethtool_stats *stats, u64 *data)
{
	vfpath_counters_read(netdev_priv(dev), data);
}

/* Context: RTNL (ethtool ops, and net-sysfs' speed/duplex). */
static int vfpath_get_link_ksettings(struct net_device *dev,
				     struct ethtool_link_ksettings *cmd)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *tx;

	ASSERT_RTNL();
	tx = rtnl_dereference(vm->tx_dev);
	if (tx)
		return __ethtool_get_link_ksettings(tx, cmd);
	cmd->base.speed = SPEED_UNKNOWN;
	cmd->base.duplex = DUPLEX_UNKNOWN;
	cmd->base.port = PORT_OTHER;
	return 0;
}

/*
 * Context: process, RTNL or not (SO_TIMESTAMPING's PHC binding asks
 * without it, as bonding's notes): the slave is held across the call.
 */
static int vfpath_get_ts_info(struct net_device *dev,
			      struct vfpath_ethtool_ts_info *info)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *tx;
	int ret;

	rcu_read_lock();
	tx = rcu_dereference(vm->tx_dev);
	if (tx && !(tx->ethtool_ops && tx->ethtool_ops->get_ts_info))
		tx = NULL;
	if (tx)
		dev_hold(tx);
	rcu_read_unlock();
	if (!tx)
		return ethtool_op_get_ts_info(dev, info);
	ret = tx->ethtool_ops->get_ts_info(tx, info);
	dev_put(tx);
	return ret;
}

const struct ethtool_ops vfpath_ethtool_ops = {
	.get_drvinfo		= vfpath_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_link_ksettings	= vfpath_get_link_ksettings,
	.get_ts_info		= vfpath_get_ts_info,
	.get_sset_count		= vfpath_get_sset_count,
	.get_strings		= vfpath_get_strings,
	.get_ethtool_stats	= vfpath_get_ethtool_stats,
};
