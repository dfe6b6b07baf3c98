// SPDX-License-Identifier: GPL-2.0
/*
 * The "vfpath" rtnl link kind: `ip link add NAME type vfpath` creates a
 * master, `ip link del NAME` removes it, and module unload removes them all.
 * IFLA_INFO_DATA (vfpath_uapi.h) reports the active path and the switch
 * count, and sets the mode, settle time and announcements, at creation or
 * later; a slave's IFLA_INFO_SLAVE_DATA gives its role, and setting it
 * moves the slave to the other role (say, a virtio-net device that is in
 * truth a vDPA passthrough, the fast path).
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>

#include "vfpath.h"
#include "vfpath_uapi.h"

/* Too large for NLA_POLICY_MAX's s16 bound: a full range. */
static struct netlink_range_validation vfpath_settle_range = {
	.max = VFPATH_SETTLE_MS_MAX,
};

/* A new family: every attribute validated strictly (exact lengths). */
static const struct nla_policy vfpath_policy[IFLA_VFPATH_MAX + 1] = {
	[IFLA_VFPATH_UNSPEC]		= { .strict_start_type = IFLA_VFPATH_ACTIVE_PATH },
	[IFLA_VFPATH_ACTIVE_PATH]	= { .type = NLA_REJECT },
	[IFLA_VFPATH_MODE]		= NLA_POLICY_MAX(NLA_U8, VFPATH_MODE_SYNTHETIC),
	[IFLA_VFPATH_SETTLE_MS]		=
		NLA_POLICY_FULL_RANGE(NLA_U32, &vfpath_settle_range),
	[IFLA_VFPATH_PEER_NOTIFY]	= { .type = NLA_U8 },
	[IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS] =
		NLA_POLICY_RANGE(NLA_U32, 1, VFPATH_PEER_NOTIFY_INTERVAL_MAX),
	[IFLA_VFPATH_SWITCHES]		= { .type = NLA_REJECT },
	[IFLA_VFPATH_LAST_REASON]	= { .type = NLA_REJECT },
};

static const struct nla_policy vfpath_slave_policy[IFLA_VFPATH_SLAVE_MAX + 1] = {
	[IFLA_VFPATH_SLAVE_UNSPEC]	= { .strict_start_type = IFLA_VFPATH_SLAVE_ROLE },
	[IFLA_VFPATH_SLAVE_ROLE]	=
		NLA_POLICY_RANGE(NLA_U8, VFPATH_ROLE_VF, VFPATH_ROLE_SYNTHETIC),
};

/*
 * Context: RTNL (rtnl_newlink, before newlink or changelink). The
 * address a master is created with must be a unicast Ethernet one:
 * rtnetlink checks only its length against the device's, and that after
 * the master is set up.
 */
static int vfpath_validate(struct nlattr *tb[], struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	if (!tb[IFLA_ADDRESS])
		return 0;
	if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
				    "vfpath: address must be 6 bytes");
		return -EINVAL;
	}
	if (!is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS]))) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
				    "vfpath: address must be a unicast MAC, not zero");
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* Context: RTNL. Applies the settings in @data (already validated). */
static int vfpath_changelink(struct net_device *dev, struct nlattr *tb[],
			     struct nlattr *data[],
			     struct netlink_ext_ack *extack)
{
	struct vfpath_master *vm = netdev_priv(dev);

	ASSERT_RTNL();
	if (!data)
		return 0;
	if (data[IFLA_VFPATH_SETTLE_MS])
		WRITE_ONCE(vm->settle_ms, nla_get_u32(data[IFLA_VFPATH_SETTLE_MS]));
	if (data[IFLA_VFPATH_PEER_NOTIFY])
		WRITE_ONCE(vm->peer_notify, nla_get_u8(data[IFLA_VFPATH_PEER_NOTIFY]));
	if (data[IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS])
		WRITE_ONCE(vm->peer_notify_interval_ms,
			   nla_get_u32(data[IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS]));
	if (data[IFLA_VFPATH_MODE])
		vfpath_set_mode(vm, nla_get_u8(data[IFLA_VFPATH_MODE]));
	return 0;
}

/* Context: RTNL (rtnl_newlink). */
static int vfpath_newlink(VFPATH_NEWLINK_PARAMS)
{
	int err;

	ASSERT_RTNL();
	err = register_netdevice(dev);
	if (err)
		return err;
	return vfpath_changelink(dev, VFPATH_NEWLINK_TB, VFPATH_NEWLINK_DATA,
				 extack);
}

/* Context: RTNL. */
static size_t vfpath_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u8)) +	/* ACTIVE_PATH */
	       nla_total_size(sizeof(u8)) +	/* MODE */
	       nla_total_size(sizeof(u32)) +	/* SETTLE_MS */
	       nla_total_size(sizeof(u8)) +	/* PEER_NOTIFY */
	       nla_total_size(sizeof(u32)) +	/* PEER_NOTIFY_INTERVAL_MS */
	       nla_total_size_64bit(sizeof(u64)) +	/* SWITCHES */
	       nla_total_size(sizeof(u8));	/* LAST_REASON */
}

/* Context: RTNL (link dump). */
static int vfpath_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *tx = rtnl_dereference(vm->tx_dev);
	u8 active = VFPATH_ACTIVE_NONE;

	ASSERT_RTNL();
	if (tx)
		active = vfpath_slave_path(vm, tx) == VFPATH_PATH_VF ?
			 VFPATH_ACTIVE_VF : VFPATH_ACTIVE_SYNTHETIC;
	if (nla_put_u8(skb, IFLA_VFPATH_ACTIVE_PATH, active) ||
	    nla_put_u8(skb, IFLA_VFPATH_MODE, vm->mode) ||
	    nla_put_u32(skb, IFLA_VFPATH_SETTLE_MS, vm->settle_ms) ||
	    nla_put_u8(skb, IFLA_VFPATH_PEER_NOTIFY, vm->peer_notify) ||
	    nla_put_u32(skb, IFLA_VFPATH_PEER_NOTIFY_INTERVAL_MS,
			vm->peer_notify_interval_ms) ||
	    nla_put_u64_64bit(skb, IFLA_VFPATH_SWITCHES,
			      atomic64_read(&vm->switches), IFLA_VFPATH_UNSPEC) ||
	    nla_put_u8(skb, IFLA_VFPATH_LAST_REASON, vm->last_reason))
		return -EMSGSIZE;
	return 0;
}

/* Context: RTNL. */
static size_t vfpath_get_slave_size(const struct net_device *dev,
				    const struct net_device *slave)
{
	return nla_total_size(sizeof(u8));	/* ROLE */
}

/* Context: RTNL (link dump of a slave). */
static int vfpath_fill_slave_info(struct sk_buff *skb,
				  const struct net_device *dev,
				  const struct net_device *slave)
{
	int path = vfpath_slave_path(netdev_priv(dev), slave);

	ASSERT_RTNL();
	if (path < 0)
		return 0;
	return nla_put_u8(skb, IFLA_VFPATH_SLAVE_ROLE,
			  path == VFPATH_PATH_VF ? VFPATH_ROLE_VF :
						   VFPATH_ROLE_SYNTHETIC);
}

/* Context: RTNL. Gives @slave of @dev the role in @data, if it changed. */
static int vfpath_slave_changelink(struct net_device *dev,
				   struct net_device *slave,
				   struct nlattr *tb[], struct nlattr *data[],
				   struct netlink_ext_ack *extack)
{
	enum vfpath_path path;

	ASSERT_RTNL();
	if (!data || !data[IFLA_VFPATH_SLAVE_ROLE])
		return 0;
	path = nla_get_u8(data[IFLA_VFPATH_SLAVE_ROLE]) == VFPATH_ROLE_VF ?
	       VFPATH_PATH_VF : VFPATH_PATH_SYN;
	return vfpath_slave_set_role(netdev_priv(dev), slave, path, extack);
}

struct rtnl_link_ops vfpath_link_ops __read_mostly = {
	.kind			= VFPATH_DRV_NAME,
	.priv_size		= sizeof(struct vfpath_master),
	.setup			= vfpath_master_setup,
	.maxtype		= IFLA_VFPATH_MAX,
	.policy			= vfpath_policy,
	.validate		= vfpath_validate,
	.newlink		= vfpath_newlink,
	.changelink		= vfpath_changelink,
	.get_size		= vfpath_get_size,
	.fill_info		= vfpath_fill_info,
	.slave_maxtype		= IFLA_VFPATH_SLAVE_MAX,
	.slave_policy		= vfpath_slave_policy,
	.slave_changelink	= vfpath_slave_changelink,
	.get_slave_size		= vfpath_get_slave_size,
	.fill_slave_info	= vfpath_fill_slave_info,
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
