// SPDX-License-Identifier: GPL-2.0
/*
 * What the master offers the stack, computed from its slaves: offload
 * features, VLAN and encapsulation features, TSO limits, MTU bounds and
 * header room.
 *
 * Features are the slaves' union, as bonding computes them: a frame the
 * active slave cannot offload is segmented or checksummed in software by
 * dev_queue_xmit() on that slave, so offering the VF's offloads costs
 * nothing while the synthetic path carries. Limits (TSO size and segments,
 * MTU bounds) are the slaves' intersection: a frame sized for one path must
 * fit the other the moment the datapath switches.
 */
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "vfpath.h"

/*
 * UDP GSO as TSO: offered whatever the slaves do, since dev_queue_xmit()
 * on a slave that lacks it segments there. Not offering it costs every
 * segment its own crossing of the master: make bench's cost_vxlan (UDP GSO
 * through a tunnel on the master) measured 17% over the bare VF without
 * it (4470 instructions a segment against 3820).
 */
#define VFPATH_SW_GSO		(NETIF_F_ALL_TSO | NETIF_F_GSO_UDP_L4)
#define VFPATH_VLAN_FEATURES	(NETIF_F_HW_CSUM | NETIF_F_SG | \
				 NETIF_F_FRAGLIST | VFPATH_SW_GSO | \
				 NETIF_F_HIGHDMA | NETIF_F_LRO)
#define VFPATH_ENC_FEATURES	(NETIF_F_HW_CSUM | NETIF_F_SG | \
				 NETIF_F_RXCSUM | VFPATH_SW_GSO)

/*
 * Context: RTNL (ndo_fix_features). The wanted features, limited to what
 * some slave can do; with no slave, what the master was created with.
 */
netdev_features_t vfpath_fix_features(struct net_device *dev,
				      netdev_features_t features)
{
	struct vfpath_master *vm = netdev_priv(dev);
	netdev_features_t mask = features;
	struct net_device *slave;
	bool any = false;

	ASSERT_RTNL();
	features &= ~NETIF_F_ONE_FOR_ALL;
	features |= NETIF_F_ALL_FOR_ALL;
	vfpath_for_each_slave(vm, slave) {
		features = netdev_increment_features(features, slave->features,
						     mask);
		any = true;
	}
	if (!any)
		return mask;
	return netdev_add_tso_features(features, mask) |
	       (mask & NETIF_F_GSO_UDP_L4);
}

/*
 * Context: RTNL. Recomputes everything above after a slave joined, left,
 * or changed its features; tells the stack if the features changed.
 */
void vfpath_sync_features(struct vfpath_master *vm)
{
	netdev_features_t vlan = VFPATH_VLAN_FEATURES & NETIF_F_ALL_FOR_ALL;
	netdev_features_t enc = VFPATH_ENC_FEATURES;
	unsigned int tso_size = TSO_MAX_SIZE, tso_segs = TSO_MAX_SEGS;
	unsigned short headroom = 0, hard_header_len = ETH_HLEN;
	unsigned int min_mtu = vm->min_mtu, max_mtu = vm->max_mtu;
	struct net_device *dev = vm->dev;
	struct net_device *slave;
	bool any = false;

	ASSERT_RTNL();
	vfpath_for_each_slave(vm, slave) {
		any = true;
		vlan = netdev_increment_features(vlan, slave->vlan_features,
						 VFPATH_VLAN_FEATURES);
		enc = netdev_increment_features(enc, slave->hw_enc_features,
						VFPATH_ENC_FEATURES);
		tso_size = min(tso_size, vfpath_compat_tso_max_size(slave));
		tso_segs = min(tso_segs, vfpath_compat_tso_max_segs(slave));
		headroom = max(headroom, slave->needed_headroom);
		hard_header_len = max(hard_header_len, slave->hard_header_len);
		min_mtu = max(min_mtu, slave->min_mtu);
		max_mtu = min(max_mtu, slave->max_mtu);
	}

	if (!any) {		/* as created: offer all, bound nothing */
		vlan = VFPATH_VLAN_FEATURES;
		enc = VFPATH_ENC_FEATURES;
	}
	dev->vlan_features = vlan;
	dev->hw_enc_features = enc | NETIF_F_GSO_ENCAP_ALL;
	netif_set_tso_max_size(dev, tso_size);
	netif_set_tso_max_segs(dev, tso_segs);
	dev->needed_headroom = headroom;
	dev->hard_header_len = hard_header_len;
	dev->min_mtu = min_mtu;
	dev->max_mtu = max_mtu;
	netdev_change_features(dev);
}
