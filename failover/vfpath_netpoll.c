// SPDX-License-Identifier: GPL-2.0
/*
 * netpoll (netconsole, kgdboe) on a vfpath master, as bonding offers it.
 *
 * netpoll transmits with interrupts disabled and may run wherever printk
 * does, even with a slave's transmit lock held on this CPU. The master may
 * then not call dev_queue_xmit(): its softirq handling re-enables interrupts
 * and it spins on the slave's queue lock. Instead, while the master has
 * netpoll, each slave gets a struct netpoll of its own (__netpoll_setup() on
 * the slave), and a frame the master transmits under netpoll goes out with
 * netpoll_send_skb() on the netpoll of the slave transmit chose, which only
 * trylocks the slave's queue and defers to its own work when busy.
 *
 * The per-slave netpoll is indexed by role, published with RCU and read on
 * transmit with interrupts off (an RCU read-side section); it is made when
 * the master's netpoll is set up or a slave joins a master that has one,
 * and freed when the master's netpoll goes or the slave leaves, after
 * transmit has stopped using that slave. vfpath's transmit takes no lock of
 * its own, so unlike bonding it needs no block_netpoll_tx() around a switch.
 *
 * Frames sent this way are not in the master's per-path counters: their
 * writers (transmit, the rx_handler) do not disable interrupts, and on
 * 32-bit a writer nested in them from hard IRQ would break their seqcount.
 * The slave counts them; a frame dropped for want of a netpoll is counted
 * in tx_dropped_no_path (atomic).
 */
#include <linux/netdevice.h>
#include <linux/netpoll.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "vfpath.h"

/*
 * Context: RTNL. Sets up a netpoll on @slave, the @path slave of @vm, and
 * publishes it; 0 or a negative errno (the slave cannot be polled).
 */
static int vfpath_netpoll_enable_one(struct vfpath_master *vm,
				     struct net_device *slave,
				     enum vfpath_path path)
{
	struct netpoll *np;
	int err;

	ASSERT_RTNL();
	np = kzalloc(sizeof(*np), GFP_KERNEL);
	if (!np)
		return -ENOMEM;
	err = __netpoll_setup(np, slave);
	if (err)
		goto err_free_np;
	rcu_assign_pointer(vm->np[path], np);
	return 0;

err_free_np:
	kfree(np);
	return err;
}

/*
 * Context: RTNL. Retracts the @path slave's netpoll of @vm, if any, and
 * frees it once no transmit can still use it (__netpoll_free() waits for
 * an RCU grace period, which covers the interrupts-off netpoll transmit).
 */
void vfpath_netpoll_slave_disable(struct vfpath_master *vm,
				  enum vfpath_path path)
{
	struct netpoll *np;

	ASSERT_RTNL();
	np = rtnl_dereference(vm->np[path]);
	if (!np)
		return;
	RCU_INIT_POINTER(vm->np[path], NULL);
	__netpoll_free(np);
}

/*
 * Context: RTNL (vfpath_slave_attach). A slave joining a master that has
 * netpoll gets one too; one that cannot be polled is refused, as bonding
 * does, or the master's netconsole would go silent on that path.
 */
int vfpath_netpoll_slave_enable(struct vfpath_master *vm,
				struct net_device *slave,
				enum vfpath_path path,
				struct netlink_ext_ack *extack)
{
	int err;

	ASSERT_RTNL();
	if (!rcu_access_pointer(vm->dev->npinfo))
		return 0;
	err = vfpath_netpoll_enable_one(vm, slave, path);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "vfpath: master uses netpoll, slave does not support it");
		netdev_err(vm->dev, "slave %s: netpoll setup failed: %d\n",
			   slave->name, err);
	}
	return err;
}

/*
 * Context: interrupts disabled, in an RCU read-side section (ndo_start_xmit
 * called by netpoll). Sends @skb, whose skb->dev is the @path slave of @vm,
 * with that slave's netpoll; without one (the slave is leaving) it is
 * dropped. Either way @skb is consumed.
 */
netdev_tx_t vfpath_netpoll_xmit(struct vfpath_master *vm,
				enum vfpath_path path, struct sk_buff *skb)
{
	struct netpoll *np;

	lockdep_assert_irqs_disabled();
	np = rcu_dereference_bh(vm->np[path]);
	if (unlikely(!np))
		atomic64_inc(&vm->tx_dropped_no_path);
	netpoll_send_skb(np, skb);	/* frees @skb when @np is NULL */
	return NETDEV_TX_OK;
}

/*
 * Context: interrupts disabled, in an RCU read-side section
 * (ndo_poll_controller, from netpoll_poll_dev() on the master). Polls each
 * slave: their completions free room, their frames reach the master.
 */
void vfpath_poll_controller(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *slave;
	int p;

	for (p = 0; p < VFPATH_PATH_MAX; p++) {
		slave = rcu_dereference_bh(vm->slave[p]);
		if (slave)
			netpoll_poll_dev(slave);
	}
}

/*
 * Context: RTNL (ndo_netpoll_cleanup, the master's last netpoll going, and
 * when setup fails). Frees every slave's netpoll.
 */
void vfpath_netpoll_cleanup(struct net_device *dev)
{
	struct vfpath_master *vm = netdev_priv(dev);
	int p;

	ASSERT_RTNL();
	for (p = 0; p < VFPATH_PATH_MAX; p++)
		vfpath_netpoll_slave_disable(vm, p);
}

/*
 * Context: RTNL (ndo_netpoll_setup, from __netpoll_setup() on the master,
 * before its npinfo is published). Gives each present slave a netpoll;
 * all or none.
 */
int vfpath_netpoll_setup(VFPATH_NETPOLL_SETUP_PARAMS)
{
	struct vfpath_master *vm = netdev_priv(dev);
	struct net_device *slave;
	int p, err;

	ASSERT_RTNL();
	for (p = 0; p < VFPATH_PATH_MAX; p++) {
		slave = rtnl_dereference(vm->slave[p]);
		if (!slave)
			continue;
		err = vfpath_netpoll_enable_one(vm, slave, p);
		if (err)
			goto err_disable_enabled;
	}
	return 0;

err_disable_enabled:
	netdev_err(dev, "slave %s: netpoll setup failed: %d\n",
		   slave->name, err);
	vfpath_netpoll_cleanup(dev);
	return err;
}
