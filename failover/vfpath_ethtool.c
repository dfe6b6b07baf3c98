// SPDX-License-Identifier: GPL-2.0
/*
 * ethtool: -i names the driver and version, -S shows the per-path counters
 * (the table in vfpath_counters.c).
 */
#include <linux/ethtool.h>
#include <linux/netdevice.h>
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

const struct ethtool_ops vfpath_ethtool_ops = {
	.get_drvinfo		= vfpath_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= vfpath_get_sset_count,
	.get_strings		= vfpath_get_strings,
	.get_ethtool_stats	= vfpath_get_ethtool_stats,
};
